/* SPDX-License-Identifier: MIT */
/* libbpf-style include path <bpf/bpf_helpers.h>. */
#include "../bpf_helpers.h"
