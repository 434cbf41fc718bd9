/* SPDX-License-Identifier: MIT */
/* uarena public API: the BPF arena (filled in by the arena module). */
#ifndef UARENA_ARENA_H
#define UARENA_ARENA_H

#include <uarena/common.h>

#endif
