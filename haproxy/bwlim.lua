-- Per-client-address bandwidth limit for HAProxy 2.6, which has no bwlim filter (2.7+): one
-- token bucket per source address and direction, shared by all of the address's connections.
-- Loaded by haproxy.cfg only when MCS_LIMIT_BYTES_PER_S is set (docs/limits.md), with `lua-load`
-- (one Lua state for every thread, so the buckets are shared) and HAProxy on one thread (its
-- 2.6.12 races on a filter's shared Lua state: haproxy.cfg).
--   filter lua.mcs_bwlim <bytes/s> <burst bytes, 0: one second's worth> <max addresses>
--                        <expire s> <stick table holding the operator's exemptions (gpt0)>

local MAX_U32 = 4294967295
-- Bytes a held connection reserves and sends at once (at most the burst): fewer wake-ups and no
-- stream of tiny TLS records; a message below the limit finds a full bucket and never waits.
local CHUNK = 4096
-- Addresses beyond the table size share this one bucket: limited as a group, never unlimited.
local OVERFLOW = "overflow"

local conf = nil -- set once by the filter's declaration
-- address -> bucket {tokens request, tokens response, ms of their last refill (two)}: an array,
-- 100,000 of them hold 20 MB (Lua 5.3). Tokens go below zero for reservations. The addresses
-- seen in this period are in cur, those of the period before in prev: at the end of a period
-- prev is dropped whole, so an address idle for a full period is forgotten (after one to two
-- periods) without a pass over the table (one over 100,000 buckets took 25 ms, HAProxy's only
-- thread waiting).
local cur, prev = {}, {}
local n_cur, n_prev = 0, 0 -- addresses in each (the overflow group not counted)
local throttled = 0        -- bytes that waited for their bucket, since this worker started

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
	c.chunk = math.min(CHUNK, c.burst)
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

-- The bucket of key, made full when new; a new address finds the overflow group's bucket when
-- the table is full. A period is MCS_LIMIT_EXPIRE_S, or the time to refill a burst if longer.
local function bucket(key, now)
	local b = cur[key]
	if b ~= nil then
		return b
	end
	b = prev[key]
	if b ~= nil then
		prev[key] = nil
		n_prev = n_prev - (key ~= OVERFLOW and 1 or 0)
	elseif key ~= OVERFLOW and n_cur + n_prev >= conf.size then
		return bucket(OVERFLOW, now)
	else
		b = {conf.burst, conf.burst, now, now}
	end
	cur[key] = b
	n_cur = n_cur + (key ~= OVERFLOW and 1 or 0)
	return b
end

local Limit = {}
Limit.id = "mcs per-address bandwidth limit"
Limit.__index = Limit

function Limit:new()
	-- per direction: bytes held back at the last call, bytes reserved and when they may pass
	return setmetatable({key = nil, held = {0, 0}, owed = {0, 0}, due = {0, 0}}, Limit)
end

-- Both channels start here: an exempt address (gpt0 > 0 in the stick table, docs/limits.md)
-- gets no data filter at all; its exemption is read when each connection starts.
function Limit:start_analyze(txn, chn)
	if self.key == nil then
		local exempt = tonumber(txn.sf:src_get_gpt0(conf.table)) or 0
		self.key = exempt > 0 and "" or txn.sf:src() or OVERFLOW
	end
	if self.key ~= "" then
		filter.register_data_filter(self, chn)
	end
end

-- Forwards what the address's bucket allows now. What it cannot is reserved one chunk at a time:
-- the chunk's bytes are taken from the bucket at once, which may go below zero, and pass when
-- the bucket is back at zero. Connections of one address thus take turns in the order they
-- asked (plain "take what is there" starved all but one of them).
function Limit:tcp_payload(txn, chn)
	local len = chn:input()
	local d = chn:is_resp() and 2 or 1
	local now = now_ms()
	local b = bucket(self.key, now)
	b[d] = math.min(conf.burst, b[d] + math.max(0, now - b[d + 2]) * conf.rate / 1000)
	b[d + 2] = now
	local allow = 0
	if self.owed[d] > 0 then
		if now < self.due[d] then
			filter.wake_time(math.max(1, math.ceil(self.due[d] - now)))
			return 0
		end
		allow, self.owed[d] = math.min(len, self.owed[d]), 0
	end
	while allow < len do
		local n = math.min(len - allow, conf.chunk)
		b[d] = b[d] - n
		if b[d] < 0 then
			self.owed[d], self.due[d] = n, now - b[d] * 1000 / conf.rate
			filter.wake_time(math.max(1, math.ceil(self.due[d] - now)))
			break
		end
		allow = allow + n
	end
	throttled = throttled + math.min(allow, self.held[d])
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
			prev, cur, n_prev, n_cur = cur, {}, n_cur, 0
		end
	end
end)

-- `show mcs bwlim` works on the read-only stats socket: the metrics bridge reads it.
core.register_cli({"show", "mcs", "bwlim"}, "show mcs bwlim : per-address bandwidth limit counters",
	function(applet)
		applet:send(string.format("throttled_bytes: %d\naddresses: %d\nsize: %d\nlua_memory_kb: %d\n", throttled,
			n_cur + n_prev, conf and conf.size or 0, math.floor(collectgarbage("count"))))
	end)
