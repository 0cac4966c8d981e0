// Beyond one machine: a process group over LibTorch's c10d (TCPStore rendezvous,
// ProcessGroupGloo collectives) and the few collectives adaswarm needs:
// parameter broadcast, bucketed gradient averaging, metric sums, all-gathers.
//
// How ranks start (the PyTorch convention): every rank reads RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR and MASTER_PORT (torchrun's variables; see
// scripts/launch-local.sh and docs/distributed.md). Rank 0 hosts the TCPStore on
// MASTER_PORT; the store is unauthenticated (as PyTorch's): private networks only.
// Without those variables a ProcessGroup is the single process (rank 0 of 1) and
// every collective is the identity, so callers need no special case.
//
// Faults: rendezvous and every collective are bounded by timeout_seconds; a rank
// that dies or never arrives makes the others throw DistError (naming the step
// and the timeout) instead of hanging. c10d's messages are shortened (no
// LibTorch backtrace).
//
// Built without the c10d Gloo headers (CMake ADASWARM_DIST=OFF, or no
// libgloo-dev), available() is false and a ProcessGroup for a WORLD_SIZE > 1
// launch throws, saying so.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

namespace torch::nn {
class Module;
}

namespace adaswarm::dist {

/// A distributed failure: a peer died or timed out, the store cannot be reached,
/// the port is in use. what() is one readable paragraph.
class DistError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// True when this build has the c10d Gloo backend.
bool available();

/// torchrun's variables, parsed and checked.
struct LaunchEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;  ///< LOCAL_WORLD_SIZE when set, else 1
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
};

/// Reads the variables through `getenv` (tests pass their own). Returns nullopt
/// when neither RANK nor WORLD_SIZE is set (a single process). Throws
/// std::invalid_argument naming the variable when one is missing, not an
/// integer, out of range (RANK in [0, WORLD_SIZE), port in [1, 65535]) or when
/// MASTER_ADDR / MASTER_PORT are missing for WORLD_SIZE > 1.
std::optional<LaunchEnv> parse_launch_env(const std::function<const char*(const char*)>& getenv);
/// parse_launch_env(::getenv).
std::optional<LaunchEnv> launch_env();

class ProcessGroup {
 public:
  /// The single process: rank 0 of 1; collectives return their input.
  ProcessGroup();
  /// Joins the group described by `env` (rank 0 hosts the TCPStore). A
  /// WORLD_SIZE of 1 makes no connection. timeout_seconds: in (0, 1e7], else
  /// std::invalid_argument. Throws DistError on a failed
  /// rendezvous (a MASTER_ADDR that does not resolve, at once; port in use,
  /// store unreachable, ranks missing after timeout_seconds).
  ProcessGroup(const LaunchEnv& env, double timeout_seconds);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  /// The group of launch_env(), or the single process when the variables are absent.
  static std::shared_ptr<ProcessGroup> from_environment(double timeout_seconds = 300);

  int rank() const;
  int size() const;
  int local_rank() const;
  /// More than one rank.
  bool distributed() const { return size() > 1; }
  double timeout_seconds() const;

  /// In place: every rank ends with root's tensors (same shapes and dtypes on
  /// every rank). Tensors on another device go through the CPU.
  void broadcast(std::vector<at::Tensor>& tensors, int root = 0);
  enum class Op { Sum, Max, Min };
  /// In place; every rank gets the same bits.
  void all_reduce(std::vector<at::Tensor>& tensors, Op op = Op::Sum);
  /// out[r] is rank r's `in` (same shape and dtype on every rank).
  std::vector<at::Tensor> all_gather(const at::Tensor& in);
  /// Byte strings of any length: out[r] is rank r's.
  std::vector<std::string> all_gather_bytes(const std::string& bytes);
  /// Root's bytes on every rank.
  std::string broadcast_bytes(const std::string& bytes, int root = 0);
  void barrier();

  /// Runs body on every rank, then tells every rank whether any failed: a rank
  /// whose body threw rethrows its exception; the others throw DistError naming
  /// the first failed rank and its message. Use around steps that may fail on
  /// one rank only (files, options), so that the others do not wait in the next
  /// collective until the timeout.
  void agree(const std::function<void()>& body);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// Copies rank 0's parameters and buffers into every rank's module.
void broadcast_module(ProcessGroup& group, torch::nn::Module& module);

/// Averages gradients after backward: the gradients are packed into buckets of
/// about bucket_bytes (per dtype, in parameter order), each bucket is summed by
/// one all-reduce, and every gradient becomes the weighted sum
///   sum over ranks r of weight_r * grad_r,
/// weight_r being the rank's share of the global batch (1/N for equal shards;
/// for a mean loss over a shard of n_r of B rows, n_r / B makes the result the
/// global batch's gradient). A parameter without a gradient counts as zeros.
class GradientAverager {
 public:
  GradientAverager(std::shared_ptr<ProcessGroup> group, std::vector<at::Tensor> parameters,
                   int64_t bucket_bytes = 25 << 20);
  ~GradientAverager();
  /// weight < 0: 1 / size().
  void average(double weight = -1.0);
  int64_t buckets() const;
  /// Gradient bytes all-reduced per average() call.
  int64_t bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// What must be the same on every rank (options, data sizes): (name, value) pairs,
/// in the same order on every rank.
using Settings = std::vector<std::pair<std::string, std::string>>;

/// Checks that every rank runs with rank 0's settings (one all-gather; nothing on
/// a single process). Where any rank differs, every rank throws the same
/// std::invalid_argument naming each differing setting with its value on rank 0
/// and on the first rank that differs, e.g. "the ranks were started with
/// different settings (every rank must run the same command): --seed is 1 on
/// rank 0 but 2 on rank 1". Call it before the first collective whose sizes
/// depend on the settings: ranks that disagree would otherwise train silently
/// apart, wait for the timeout, or abort inside Gloo.
void require_same_settings(ProcessGroup& group, const Settings& settings);

/// True on every rank when `flag` is true on any rank (a stop request, a timer).
bool any_rank(ProcessGroup& group, bool flag);

/// Metric sums over ranks (double precision, in place).
void all_reduce_sum(ProcessGroup& group, std::vector<double>& values);

/// Rows [begin, end) of a global batch of `batch` rows that `rank` of `size`
/// takes: contiguous, disjoint, sizes differing by at most one, in rank order.
std::pair<int64_t, int64_t> shard_range(int64_t batch, int rank, int size);

}  // namespace adaswarm::dist
