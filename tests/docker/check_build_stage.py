"""Runs docker/Dockerfile's build stage on this Debian 12 machine, without a Docker engine.

Copies exactly what the build stage COPYs into a temporary /src, runs its `meson setup ...`
RUN line there (/src, /build, /out mapped to temporary directories) with the `check` library
hidden from pkg-config as in the image (which does not install it), and asserts that every binary
the runtime images COPY --from=build was installed where they take it from. A source file the
build needs but the stage does not copy fails here instead of in `docker build`.

usage: check_build_stage.py ROOT
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

from dockerfile import parse_dockerfile


def copy_sources(root, stage, src_dir):
    for flags, sources, dest in stage.copies:
        target = os.path.join(src_dir, dest)
        for pattern in sources:
            matches = sorted(glob.glob(os.path.join(root, pattern)))
            if not matches:
                raise SystemExit(f"FAIL: COPY {pattern}: nothing in the repository matches")
            for path in matches:
                if os.path.isdir(path):
                    shutil.copytree(path, target, dirs_exist_ok=True)
                else:
                    os.makedirs(target if dest.endswith("/") else os.path.dirname(target), exist_ok=True)
                    shutil.copy2(path, target)


def pkg_config_without_check(tmp):
    """A pkg-config search path holding every .pc file of this machine except check.pc."""
    pc_dir = os.path.join(tmp, "pkgconfig")
    os.makedirs(pc_dir)
    out = subprocess.run(["pkg-config", "--variable", "pc_path", "pkg-config"], capture_output=True, text=True)
    for d in out.stdout.strip().split(":"):
        for pc in glob.glob(os.path.join(d, "*.pc")):
            name = os.path.basename(pc)
            if name != "check.pc" and not os.path.exists(os.path.join(pc_dir, name)):
                os.symlink(pc, os.path.join(pc_dir, name))
    return pc_dir


def main():
    root = sys.argv[1]
    stages = parse_dockerfile(os.path.join(root, "docker", "Dockerfile"))
    build = next(s for s in stages if s.name == "build")
    run = next((r for r in build.runs if "meson setup" in r), None)
    if run is None:
        print("FAIL: the build stage has no `meson setup` RUN line")
        return 1
    with tempfile.TemporaryDirectory(prefix="mcs-build-stage.") as tmp:
        paths = {p: os.path.join(tmp, p) for p in ("src", "build", "out")}
        os.makedirs(paths["src"])
        copy_sources(root, build, paths["src"])
        command = re.sub(r"(?<![\w/.-])/(src|build|out)(?![\w.-])", lambda m: paths[m.group(1)], run)
        print("build stage: " + command)
        env = {**os.environ, "PKG_CONFIG_LIBDIR": pkg_config_without_check(tmp), "PKG_CONFIG_PATH": ""}
        r = subprocess.run(["sh", "-c", command], cwd=paths["src"], env=env, capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stdout[-4000:] + r.stderr[-4000:])
            print(f"FAIL: the build stage's RUN failed (exit {r.returncode})")
            return 1
        missing = []
        for stage in stages:
            for flags, sources, _ in stage.copies:
                if "--from=build" not in flags:
                    continue
                for src in sources:
                    local = paths["out"] + src[len("/out"):] if src.startswith("/out/") else None
                    if local is None or not os.path.isfile(local):
                        missing.append(f"image {stage.name}: COPY --from=build {src} finds nothing")
                    else:
                        print(f"image {stage.name}: {src} built ({os.path.getsize(local)} bytes, stripped)")
        for m in missing:
            print("FAIL: " + m)
        return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
