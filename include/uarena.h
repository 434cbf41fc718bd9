/* SPDX-License-Identifier: MIT */
/*
 * uarena: a user-space eBPF runtime built around the BPF arena.
 * This umbrella header is the whole public API; each module has its own part.
 */
#ifndef UARENA_H
#define UARENA_H

#include <uarena/common.h>
#include <uarena/insn.h>
#include <uarena/arena.h>
#include <uarena/helpers.h>
#include <uarena/object.h>
#include <uarena/kernel.h>

#endif
