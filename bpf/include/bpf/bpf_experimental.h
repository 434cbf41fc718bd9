/* SPDX-License-Identifier: MIT */
/* libbpf-style include path <bpf/bpf_experimental.h>. */
#include "../bpf_experimental.h"
