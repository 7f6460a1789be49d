"""docker/Dockerfile, checked without a Docker engine against this Debian 12 machine's apt lists.

- every FROM is Debian 12 (debian:12 or debian:12-slim, or an earlier stage of the file);
- every package an `apt-get install` names exists in Debian 12 (bookworm, bookworm-updates or
  bookworm-security main, per `apt-cache policy`), and HAProxy there is the 2.6 the tests use;
- the build stage installs meson, ninja, gcc, pkg-config and every -dev package ./mcs-lb installs,
  and copies each source folder the root meson.build builds, never build trees, run/ or a key;
- each image that runs a binary of the build installs the Debian package of every shared library
  the binary needs (readelf NEEDED, ldd, dpkg -S), itself or through a dependency (what debian:12-slim
  holds already, the Essential and required packages and their dependencies, counts as there), no -dev package and no compiler, and runs as a non-root USER.

usage: check_images.py ROOT BINARY...   (BINARY: the built daemons, found in the image by name)
"""
import os
import re
import subprocess
import sys

from dockerfile import parse_dockerfile, read_runner

DEBIAN_12 = re.compile(r"debian:(12|bookworm)(-slim)?(@sha256:[0-9a-f]{64})?")
BOOKWORM_LINE = re.compile(r"\s(bookworm|bookworm-updates|bookworm-security)/main\s")
BUILD_TOOLS = {"gcc", "pkg-config", "meson", "ninja-build"}
NOT_AT_RUNTIME = re.compile(r"(-dev|^gcc.*|^meson|^ninja-build|^pkg-config|^build-essential|^make)$")

failures = []


def fail(message):
    failures.append(message)
    print("FAIL: " + message)


def apt_policy(packages):
    """{package: (candidate, [version-table lines])} from one `apt-cache policy` call."""
    out = subprocess.run(["apt-cache", "policy", *packages], capture_output=True, text=True,
                         env={**os.environ, "LC_ALL": "C"}).stdout
    result, current = {}, None
    for line in out.splitlines():
        if line and not line.startswith(" "):
            current = line.rstrip(":")
            result[current] = ["(none)", []]
        elif current and line.strip().startswith("Candidate:"):
            result[current][0] = line.split(":", 1)[1].strip()
        elif current:
            result[current][1].append(line)
    return result


def package_of(path):
    """The Debian package that ships the file at path (tries the /usr-merged spellings)."""
    real = os.path.realpath(path)
    candidates = [path, real]
    for p in (path, real):
        candidates.append(p[4:] if p.startswith("/usr/") else "/usr" + p)
    for candidate in candidates:
        r = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def needed_packages(binary):
    """{package: [sonames]} of the libraries the binary links directly (NEEDED)."""
    dyn = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn)
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    paths = dict(re.findall(r"^\s*(\S+) => (/\S+)", ldd, re.MULTILINE))
    result = {}
    for soname in needed:
        if soname not in paths:
            fail(f"{binary}: ldd does not resolve {soname}")
            continue
        pkg = package_of(paths[soname])
        if pkg is None:
            fail(f"{binary}: no Debian package ships {paths[soname]}")
            continue
        result.setdefault(pkg, []).append(soname)
    return result


def slim_packages():
    """What debian:12-slim holds, as debootstrap's minbase builds it: the Essential and
    Priority required packages (read from this Debian 12 machine) and everything they depend on."""
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Essential} ${Priority}\n"],
                         capture_output=True, text=True, check=True).stdout
    return depends_closure([l.split()[0] for l in out.splitlines() if " yes " in l or l.endswith(" required")])


def depends_closure(packages):
    """The packages and everything they depend on (apt-get install --no-install-recommends)."""
    if not packages:
        return set()
    out = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                          "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *packages],
                         capture_output=True, text=True, check=True).stdout
    return {l.split(":")[0] for l in out.splitlines() if l and not l.startswith((" ", "<"))}


def check_bases(stages):
    names = set()
    for s in stages:
        if s.base in names:
            pass
        elif not DEBIAN_12.fullmatch(s.base):
            fail(f"FROM {s.base}: every image must come from debian:12 or debian:12-slim")
        if s.name:
            names.add(s.name)
    print("base images: " + ", ".join(sorted({s.base for s in stages if s.base not in names})))


def check_packages_exist(stages):
    wanted = sorted({p for s in stages for p in s.packages()})
    policy = apt_policy(wanted)
    if not any(BOOKWORM_LINE.search(l) for _, lines in policy.values() for l in lines):
        fail("apt has no Debian 12 (bookworm) package lists: run apt-get update")
        return
    for pkg in wanted:
        candidate, lines = policy.get(pkg, ["(none)", []])
        if candidate == "(none)" or not any(BOOKWORM_LINE.search(l) for l in lines):
            fail(f"apt package {pkg} (in docker/Dockerfile) does not exist in Debian 12")
    print(f"{len(wanted)} apt packages exist in Debian 12: {' '.join(wanted)}")
    hap = policy.get("haproxy", ["(none)", []])[0]
    if "haproxy" in wanted and not hap.startswith("2.6."):
        fail(f"Debian 12's haproxy is {hap}, not the 2.6 the tests use")
    out = subprocess.run(["haproxy", "-v"], capture_output=True, text=True).stdout if "haproxy" in wanted else ""
    m = re.search(r"version (\S+)", out)
    if m and not m.group(1).startswith("2.6."):
        fail(f"the tests run haproxy {m.group(1)}, the image Debian 12's {hap}")
    elif m:
        print(f"haproxy: the tests run {m.group(1)}, the image gets Debian 12's {hap}")


def check_build_stage(root, stages):
    build = next((s for s in stages if s.name == "build"), None)
    if build is None:
        fail("no stage named build")
        return
    runner = read_runner(os.path.join(root, "mcs-lb"))
    dev = {p for p in runner["packages"] if p.endswith("-dev")}
    missing = (BUILD_TOOLS | dev) - set(build.all_packages())
    if missing:
        fail(f"the build stage lacks {' '.join(sorted(missing))} (./mcs-lb installs them to build)")
    if not any("meson setup" in r for r in build.runs):
        fail("the build stage does not run meson setup")
    sources = [src.rstrip("/") for flags, srcs, _ in build.copies if not flags for src in srcs]
    with open(os.path.join(root, "meson.build"), encoding="utf-8") as f:
        meson = f.read()
    for sub in re.findall(r"^subdir\('([^']+)'\)", meson, re.MULTILINE):
        if not any(src == sub or src.startswith(sub + "/") for src in sources):
            fail(f"the build stage does not COPY {sub}/ (the root meson.build builds it)")
    for src in sources:
        top = src.split("/")[0]
        if src in (".", "tls", "run") or top.startswith("build") or top == "run" or src.endswith(".key") \
                or src.endswith(".cert") or src.endswith(".pem"):
            fail(f"the build stage copies {src}: build trees, run/ and certificates stay out")
    print("build stage: copies " + " ".join(sources))


def check_runtime_images(stages, binaries):
    slim = slim_packages()
    for binary in binaries:
        name = os.path.basename(binary)
        holders = [s for s in stages for flags, srcs, dest in s.copies
                   if any(f.startswith("--from=") for f in flags) and any(os.path.basename(x) == name for x in srcs)]
        if not holders:
            fail(f"no image copies {name}")
            continue
        needs = needed_packages(binary)
        for stage in holders:
            installed = depends_closure(stage.all_packages())
            for pkg, sonames in sorted(needs.items()):
                if pkg not in installed and pkg not in slim:
                    fail(f"image {stage.name}: {name} needs {', '.join(sonames)} from {pkg}, not installed")
            print(f"image {stage.name}: {name} needs " +
                  ", ".join(f"{pkg} ({', '.join(s)})" for pkg, s in sorted(needs.items())))


def check_runtime_stages(stages):
    for stage in stages:
        if stage.name == "build" or any(c.parent is stage for c in stages):
            continue  # the build stage, or a base other images are built from
        for pkg in stage.all_packages():
            if NOT_AT_RUNTIME.search(pkg):
                fail(f"image {stage.name} installs {pkg}: runtime images carry no build tools")
        for flags, srcs, _ in stage.copies:
            if any(f.startswith("--from=") for f in flags) and any("/usr/local/bin/" not in s for s in srcs):
                fail(f"image {stage.name} copies {srcs} from another stage: binaries only")
        user = stage.effective_user()
        if user in ("root", "0") or user.startswith(("root:", "0:")):
            fail(f"image {stage.name} runs as root: set a USER")
        else:
            print(f"image {stage.name}: FROM {stage.base}, USER {user}")


def main():
    root, binaries = sys.argv[1], sys.argv[2:]
    stages = parse_dockerfile(os.path.join(root, "docker", "Dockerfile"))
    check_bases(stages)
    check_packages_exist(stages)
    check_build_stage(root, stages)
    check_runtime_images(stages, binaries)
    check_runtime_stages(stages)
    if failures:
        print(f"{len(failures)} problem(s) in docker/Dockerfile")
        return 1
    print("docker/Dockerfile: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
