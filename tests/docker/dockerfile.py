"""Reads docker/Dockerfile and ./mcs-lb the way the tests/docker checks need them.

Shared by check_images.py and check_compose.py: stages (base, name, RUN/COPY/USER lines), the
packages each `apt-get install` names, and the package list, entry-script calls and variables
of the local runner.
"""
import re
import shlex


class Stage:
    def __init__(self, base, name):
        self.base = base        # the FROM image or an earlier stage's name
        self.name = name        # the `AS` name ("" when none)
        self.runs = []          # RUN command texts, continuation lines joined
        self.copies = []        # (flags, sources, destination) of each COPY
        self.user = None        # the last USER of this stage, None when it sets none
        self.parent = None      # the Stage it is built FROM, when that is a stage

    def effective_user(self):
        """USER in effect in this stage: its own, else its parent stage's, else root."""
        stage = self
        while stage is not None:
            if stage.user is not None:
                return stage.user
            stage = stage.parent
        return "root"

    def packages(self):
        """Packages named by this stage's own `apt-get install` commands."""
        found = []
        for run in self.runs:
            for part in re.split(r"&&|;|\|\|", run):
                words = shlex.split(part)
                if "apt-get" not in words or "install" not in words:
                    continue
                found += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
        return found

    def all_packages(self):
        """Packages installed in this stage and every stage it is built from."""
        stage, found = self, []
        while stage is not None:
            found += stage.packages()
            stage = stage.parent
        return found


def logical_lines(text):
    """Instructions of a Dockerfile: comments dropped, `\\` continuations joined."""
    lines, current = [], ""
    for raw in text.splitlines():
        if raw.lstrip().startswith("#") or (not raw.strip() and not current):
            continue
        if raw.rstrip().endswith("\\"):
            current += raw.rstrip()[:-1] + " "
            continue
        lines.append(current + raw)
        current = ""
    if current:
        lines.append(current)
    return lines


def parse_dockerfile(path):
    """Returns the list of Stages of the Dockerfile at path, in order."""
    stages, by_name = [], {}
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for line in logical_lines(text):
        word, _, rest = line.strip().partition(" ")
        word, rest = word.upper(), rest.strip()
        if word == "FROM":
            m = re.fullmatch(r"(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", rest, re.IGNORECASE)
            if not m:
                raise ValueError(f"{path}: cannot read FROM {rest}")
            stage = Stage(m.group(1), m.group(2) or "")
            stage.parent = by_name.get(stage.base)
            stages.append(stage)
            if stage.name:
                by_name[stage.name] = stage
        elif not stages:
            continue
        elif word == "RUN":
            stages[-1].runs.append(rest)
        elif word == "COPY":
            words = shlex.split(rest)
            flags = [w for w in words if w.startswith("--")]
            args = [w for w in words if not w.startswith("--")]
            stages[-1].copies.append((flags, args[:-1], args[-1]))
        elif word == "USER":
            stages[-1].user = rest
    return stages


def read_runner(path):
    """The local runner ./mcs-lb: its text, PACKAGES, the defaults export_defaults gives, the
    names it exports anywhere, and each call of an entry script ("$ENTRY/x.sh")."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^PACKAGES=\(([^)]*)\)", text, re.MULTILINE)
    packages = m.group(1).split() if m else []
    m = re.search(r"^export_defaults\(\) \{\n(.*?)^\}", text, re.MULTILINE | re.DOTALL)
    defaults = {}
    for name, value in re.findall(r'^\s*export (\w+)="\$\{\1:-([^"]*)\}"\s*$', m.group(1) if m else "",
                                  re.MULTILINE):
        defaults[name] = value
    exported = set(re.findall(r"^\s*export (\w+)=", text, re.MULTILINE))
    calls = []
    call_re = re.compile(r'^\s*((?:\w+=(?:"[^"]*"|\S+)\s+)*)"\$ENTRY/([\w.-]+\.sh)"(.*)$')
    for number, line in enumerate(text.splitlines(), 1):
        m = call_re.match(line)
        if not m:
            continue
        inline = re.findall(r"(\w+)=", m.group(1))
        rest = m.group(3).split("#")[0]
        words = [w for w in shlex.split(rest.replace("&", " & ").replace("||", " || "))]
        args = []
        for w in words:
            if w in ("&", "||", ">/dev/null", "2>&1", "&&") or w.startswith(">"):
                break
            args.append(w)
        calls.append({"line": number, "script": m.group(2), "args": args, "inline": inline,
                      "background": "&" in words and "&&" not in words})
    return {"text": text, "packages": packages, "defaults": defaults, "exported": exported, "calls": calls}
