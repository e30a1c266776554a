#!/usr/bin/env python3
"""Checks a Lambda zip built by `make package`: exactly one entry, `bootstrap`, executable, a static-enough
ELF for the requested architecture. Exits non-zero with the reason otherwise."""
import os
import stat
import sys
import zipfile

MACHINES = {"arm64": 0xB7, "x86_64": 0x3E}  # ELF e_machine: EM_AARCH64, EM_X86_64


def main(path: str, arch: str) -> int:
    if not os.path.isfile(path):
        print(f"{path}: no package for {arch}: run make package ARCH={arch} first", file=sys.stderr)
        return 1
    with zipfile.ZipFile(path) as archive:
        entries = archive.infolist()
        names = [e.filename for e in entries]
        if names != ["bootstrap"]:
            print(f"{path}: expected exactly one entry 'bootstrap', found {names}", file=sys.stderr)
            return 1
        entry = entries[0]
        mode = entry.external_attr >> 16
        if not mode & stat.S_IXUSR:
            print(f"{path}: bootstrap is not executable (mode {oct(mode)})", file=sys.stderr)
            return 1
        header = archive.read(entry)[:20]
    if header[:4] != b"\x7fELF":
        print(f"{path}: bootstrap is not an ELF binary", file=sys.stderr)
        return 1
    machine = int.from_bytes(header[18:20], "little")
    if machine != MACHINES[arch]:
        print(f"{path}: bootstrap is for ELF machine {machine:#x}, not {arch}: run make package ARCH={arch}", file=sys.stderr)
        return 1
    print(f"{path}: one executable bootstrap for {arch}, {entry.file_size} bytes unpacked")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in MACHINES:
        print("usage: check-lambda-zip.py ZIP arm64|x86_64", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
