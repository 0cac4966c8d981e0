// Fitness kernels of the swarm loss on contiguous CPU float buffers (private to
// src/lib/loss). One candidate output is B rows x C values; the kernels give a
// loss per row (per-sample and row-summed element-wise losses) or per element.
#pragma once
#include <cstdint>

#include "adaswarm/loss/swarm_loss.h"

namespace adaswarm::detail {

/// rows_out[b] = loss of row b of `pos` (C values) against the target row
/// (`tgt` [B, C] floats, or `idx` [B] class indices for CE / hinge).
void row_losses(LossKind kind, const float* pos, const float* tgt, const int64_t* idx, int64_t B, int64_t C,
                float delta, float* rows_out);

/// rows_out[r] = 0 + in[r C] + ... + in[r C + C - 1] (in order), r < R: the
/// row sums of a per-element custom kernel's output.
void row_sums(const float* in, int64_t R, int64_t C, float* rows_out);

/// out[k] = float(double(in[k]) * scale), k < n.
void scale_to_float(const float* in, int64_t n, double scale, float* out);

/// out[k] = loss of element k of `pos` against tgt[k], k < n: element-wise
/// kinds only (MSE, MAE, BCE, BCE-with-logits, Huber, smooth L1, hinge on
/// +-1 targets). Throws std::invalid_argument for a per-sample kind.
void element_losses(LossKind kind, const float* pos, const float* tgt, int64_t n, float delta, float* out);

/// True when the loss kind is a sum of per-element terms for this target.
bool elementwise_kind(LossKind kind, bool index_target);

}  // namespace adaswarm::detail
