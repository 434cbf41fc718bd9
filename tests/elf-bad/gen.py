#!/usr/bin/env python3
# Regenerates the checked-in malformed objects from a minimal clang-built one.
# Usage: tests/elf-bad/gen.py  (needs clang-19). Each file's expected errno and
# message are listed in MANIFEST; tests/test_elf_bad.c checks every entry.
import os, struct, subprocess, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = b'__attribute__((section("syscall"), used)) int f(void *ctx) { return 1; }\n'

def build_base():
    with tempfile.TemporaryDirectory() as d:
        c, o = os.path.join(d, "m.c"), os.path.join(d, "m.o")
        open(c, "wb").write(SRC)
        subprocess.check_call(["clang-19", "-target", "bpf", "-O2", "-c", c, "-o", o])
        return bytearray(open(o, "rb").read())

def shdrs(b):
    shoff, = struct.unpack_from("<Q", b, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", b, 0x3a)
    strtab_off = struct.unpack_from("<Q", b, shoff + shstrndx * shentsize + 0x18)[0]
    out = {}
    for i in range(shnum):
        base = shoff + i * shentsize
        name_off, typ = struct.unpack_from("<II", b, base)
        end = b.index(b"\0", strtab_off + name_off)
        out[b[strtab_off + name_off:end].decode()] = (i, base, typ)
    return out

def main():
    base = build_base()
    cases = {}
    cases["empty.elf"] = bytearray()
    cases["truncated_header.elf"] = base[:40]
    b = bytearray(base); struct.pack_into("<Q", b, 0x28, len(b) + 4096); cases["shoff_past_end.elf"] = b
    b = bytearray(base); struct.pack_into("<H", b, 0x3c, 0xfff0); cases["shnum_huge.elf"] = b
    b = bytearray(base); struct.pack_into("<H", b, 0x3e, 0x7ff); cases["shstrndx_bad.elf"] = b
    b = bytearray(base); struct.pack_into("<H", b, 0x12, 62); cases["machine_x86.elf"] = b
    s = shdrs(base)
    b = bytearray(base); struct.pack_into("<I", b, s[".symtab"][1] + 0x28, 999); cases["symtab_link_bad.elf"] = b
    b = bytearray(base); struct.pack_into("<I", b, s[".symtab"][1] + 4, 1); cases["no_symtab.elf"] = b
    b = bytearray(base); size, = struct.unpack_from("<Q", b, s["syscall"][1] + 0x20)
    struct.pack_into("<Q", b, s["syscall"][1] + 0x20, size - 4); cases["prog_size_odd.elf"] = b
    for name, data in cases.items():
        open(os.path.join(HERE, name), "wb").write(data)

main()
