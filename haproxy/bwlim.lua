-- Per-client-address bandwidth limit for HAProxy 2.6, which has no bwlim filter (2.7+): one
-- token bucket per source address and direction, shared by all of the address's connections on
-- every thread. Loaded by haproxy.cfg only when MCS_LIMIT_BYTES_PER_S is set (docs/limits.md),
-- with `lua-load-per-thread`: each thread runs its own copy, no Lua lock, no Lua state shared.
--   filter lua.mcs_bwlim <bytes/s> <burst bytes, 0: one second's worth> <max addresses>
--                        <expire s> <stick table holding the operator's exemptions (gpt0)>
-- The address's bytes are counted by HAProxy itself, for all threads, in the stick counter the
-- frontend tracks (sc0: the address in the limit table; sc1: the group of addresses beyond a
-- full table), with `option contstats` so the count moves while a connection lives. Each
-- thread keeps its own view of an address's bucket: refilled at the rate, emptied by what that
-- shared count grew by since the thread last looked. Every view thus follows the same bucket.

local MAX_U32 = 4294967295
-- Addresses beyond the table size share one bucket: limited as a group, never unlimited.
local OVERFLOW = "overflow"
-- The shared counts in KiB per direction (request: client to node; response: node to client),
-- and the rate of the last second in bytes, of stick counter <n>.
local KBYTES = {"sc_kbytes_in", "sc_kbytes_out"}
local RATE = {"sc_bytes_in_rate", "sc_bytes_out_rate"}

local conf = nil -- set once by the filter's declaration
-- This thread's views, address -> {tokens request, tokens response, ms of their last refill
-- (two), KiB counted when last seen (two)}. Tokens go below zero: what was read and not yet paid
-- for. Views of this period in cur, of the period before in prev: at the end of a period prev is
-- dropped whole, so an address idle for a full period is forgotten without a pass over the
-- table; at most MCS_LIMIT_TABLE_SIZE views, as the stick table (a view forgotten early is
-- rebuilt from the shared count: nothing is let through for it).
local cur, prev = {}, {}
local n_cur, n_prev = 0, 0
local throttled = 0 -- bytes that waited, on this thread since the worker started

local function now_ms()
	local t = core.now()
	return t.sec * 1000 + t.usec // 1000
end

-- A whole number from lo to hi written as plain digits, or an error naming the variable (its
-- own line: HAProxy prints the next alert right after it).
local function parse_num(name, text, lo, hi, what)
	local v = string.match(text or "", "^%d+$") and #text <= 10 and tonumber(text) or nil
	if v == nil or v < lo or v > hi then
		error(string.format('%s: "%s" is not %s from %d to %d\n', name, text or "", what, lo, hi), 0)
	end
	return v
end

local function parse_conf(args)
	local c = {}
	c.rate = parse_num("MCS_LIMIT_BYTES_PER_S", args[1], 1, MAX_U32, "a number of bytes per second")
	c.burst = parse_num("MCS_LIMIT_BURST_BYTES", args[2], 0, MAX_U32, "a number of bytes (0: one second's worth)")
	if c.burst == 0 then
		c.burst = c.rate
	end
	c.size = parse_num("MCS_LIMIT_TABLE_SIZE", args[3], 1, MAX_U32, "a number of addresses")
	c.expire_ms = parse_num("MCS_LIMIT_EXPIRE_S", args[4], 1, MAX_U32, "a number of seconds") * 1000
	-- An address idle this long has a full bucket again: forgetting it changes nothing.
	c.period_ms = math.max(c.expire_ms, math.ceil(c.burst * 1000 / c.rate))
	c.table = args[5]
	if c.table == nil or c.table == "" then
		error("filter lua.mcs_bwlim: the stick table of exemptions is missing\n", 0)
	end
	return c
end

local function forget_period()
	prev, cur, n_prev, n_cur = cur, {}, n_cur, 0
end

-- This thread's view of key's bucket. A new one starts from what the address used in the last
-- second on any thread (a bucket one second's worth deep that was used at the rate is empty)
-- and from the shared count as it is now.
local function view(key, txn, ctr, now)
	local v = cur[key]
	if v ~= nil then
		return v
	end
	v = prev[key]
	if v ~= nil then
		prev[key], n_prev = nil, n_prev - 1
	else
		if n_cur + n_prev >= conf.size then
			forget_period()
		end
		v = {conf.burst, conf.burst, now, now, 0, 0}
		for d = 1, 2 do
			if ctr ~= nil then
				v[d] = conf.burst - (txn.f[RATE[d]](txn.f, ctr) or 0)
				v[d + 4] = txn.f[KBYTES[d]](txn.f, ctr) or 0
			end
		end
	end
	cur[key], n_cur = v, n_cur + 1
	return v
end

-- Stick counter n is tracked (HAProxy hands Lua this boolean as the integer 0 or 1).
local function tracked(txn, n)
	local t = txn.f:sc_tracked(n)
	return t == true or (tonumber(t) or 0) ~= 0
end

local Limit = {}
Limit.id = "mcs per-address bandwidth limit"
Limit.__index = Limit

function Limit:new()
	-- per direction: bytes held back at the last call; when the held bytes are paid for (0: none)
	return setmetatable({key = nil, ctr = nil, held = {0, 0}, due = {0, 0}}, Limit)
end

-- Both channels start here: an exempt address (gpt0 > 0 in the stick table, docs/limits.md)
-- gets no data filter at all; its exemption is read when each connection starts.
function Limit:start_analyze(txn, chn)
	if self.key == nil then
		local exempt = tonumber(txn.sf:src_get_gpt0(conf.table)) or 0
		if exempt > 0 then
			self.key = ""
		elseif tracked(txn, 0) then
			self.key, self.ctr = txn.sf:src(), 0
		else -- not in the full table: the group's counter (haproxy.cfg), or this thread alone
			self.key, self.ctr = OVERFLOW, tracked(txn, 1) and 1 or nil
		end
	end
	if self.key ~= "" then
		filter.register_data_filter(self, chn)
	end
end

-- Everything waiting passes at once while the address's bucket is not below zero: a message
-- below the limit never waits and never sets a timer. Bytes are paid for when HAProxy reads them
-- (the shared count; the bytes passing now are paid for on the next call). Below zero, a
-- connection waits until the refill has paid the debt it found, then passes what it holds, even
-- if others have added to the debt meanwhile: its bytes were in the debt it waited for, and the
-- address's connections take turns (all passing whenever the bucket was back at zero starved
-- all but the first to wake).
function Limit:tcp_payload(txn, chn)
	local len = chn:input()
	local d = chn:is_resp() and 2 or 1
	local now = now_ms()
	local v = view(self.key, txn, self.ctr, now)
	local t = math.max(0, now - v[d + 2])
	local kb = self.ctr ~= nil and txn.f[KBYTES[d]](txn.f, self.ctr) or nil
	-- what the address read since this thread last looked (a count that went back, entry
	-- recreated or 32-bit wrap, restarts the baseline)
	local used = kb ~= nil and math.max(0, kb - v[d + 4]) * 1024 or 0
	-- A view idle over a second (others used the address meanwhile) pays what the address read
	-- in the last second after its refill, and what it read before as if spread over the
	-- interval: charging it all at once would hold back bytes an address well below its rate
	-- had long paid for.
	local recent = used
	if used > 0 and t > 1000 then
		recent = math.min(used, txn.f[RATE[d]](txn.f, self.ctr) or used)
	end
	local tok = math.min(conf.burst, v[d] + t * conf.rate / 1000 - (used - recent)) - recent
	v[d + 2], v[d + 4] = now, kb or v[d + 4]
	local allow = 0
	if self.due[d] > now then
		filter.wake_time(math.max(1, self.due[d] - now))
	elseif self.due[d] > 0 or tok >= 0 then
		allow, self.due[d] = len, 0
		if kb == nil then -- no shared count: this thread pays for what it passes
			tok = tok - len
		end
	else
		self.due[d] = now + math.max(1, math.ceil(-tok * 1000 / conf.rate))
		filter.wake_time(self.due[d] - now)
	end
	v[d] = tok
	if allow > 0 and self.held[d] > 0 then
		throttled = throttled + math.min(allow, self.held[d])
		-- each thread's count where `show mcs bwlim` (on any thread) adds them up
		txn:set_var("proc.mcs_bwlim_throttled_" .. core.thread, throttled)
	end
	self.held[d] = len - allow
	return allow
end

core.register_filter("mcs_bwlim", Limit, function(flt, args)
	conf = parse_conf(args)
	return flt
end)

core.register_task(function()
	while true do
		core.msleep(conf and conf.period_ms or 1000)
		if conf ~= nil then
			forget_period()
		end
	end
end)

-- `show mcs bwlim` works on the read-only stats socket: the metrics bridge reads it. It adds up
-- what every thread published (threads number from 1; HAProxy 2.6 runs at most 64).
core.register_cli({"show", "mcs", "bwlim"}, "show mcs bwlim : per-address bandwidth limit counters",
	function(applet)
		local sum = 0
		for t = 1, 64 do
			sum = sum + (tonumber(applet:get_var("proc.mcs_bwlim_throttled_" .. t)) or 0)
		end
		applet:send(string.format("throttled_bytes: %d\nsize: %d\n", sum, conf and conf.size or 0))
	end)
