// Process group over c10d (TCPStore + ProcessGroupGloo); see include/adaswarm/dist/dist.h.
// Compiled with USE_C10D_GLOO and ADASWARM_HAVE_DIST=1 when CMake found the gloo
// headers (cmake/AdaswarmDist.cmake); otherwise the single-process stub below.
#include "adaswarm/dist/dist.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/nn/module.h>
#include <torch/types.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

#include <fmt/format.h>

#if ADASWARM_HAVE_DIST
#include <netdb.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace adaswarm::dist {

// ------------------------------------------------------------------ environment

namespace {

/// A variable as an integer in [lo, hi]; throws naming it.
int env_int(const char* name, const char* value, long lo, long hi) {
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(value, &end, 10);
  if (*value == '\0' || end == value || *end != '\0' || errno == ERANGE)
    throw std::invalid_argument(fmt::format("environment variable {}='{}' is not an integer", name, value));
  if (v < lo || v > hi)
    throw std::invalid_argument(fmt::format("environment variable {}={} is out of range: expected {} to {}", name,
                                            value, lo, hi));
  return static_cast<int>(v);
}

[[maybe_unused]] bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr == "::1" || addr.rfind("127.", 0) == 0;
}

/// c10d messages without LibTorch's backtrace ("Exception raised from ..." lines).
std::string short_message(const std::exception& e) {
  std::string msg;
  if (const auto* ce = dynamic_cast<const c10::Error*>(&e))
    msg = ce->what_without_backtrace();
  else
    msg = e.what();
  std::istringstream in(msg);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind("Exception raised from", 0) == 0 || line.rfind("frame #", 0) == 0) break;
    if (line.empty()) continue;
    out += (out.empty() ? "" : " ") + line;
  }
  return out.empty() ? msg : out;
}

}  // namespace

std::optional<LaunchEnv> parse_launch_env(const std::function<const char*(const char*)>& getenv) {
  auto get = [&](const char* n) -> const char* {
    const char* v = getenv(n);
    return v && *v ? v : nullptr;
  };
  const char* rank = get("RANK");
  const char* world = get("WORLD_SIZE");
  if (!rank && !world) return std::nullopt;
  if (!world)
    throw std::invalid_argument("environment variable RANK is set but WORLD_SIZE is not: set both (torchrun's "
                                "RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), or neither for one process");
  if (!rank)
    throw std::invalid_argument("environment variable WORLD_SIZE is set but RANK is not: set both (torchrun's "
                                "RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), or neither for one process");
  LaunchEnv e;
  e.world_size = env_int("WORLD_SIZE", world, 1, 1 << 20);
  e.rank = env_int("RANK", rank, 0, e.world_size - 1);
  if (const char* lr = get("LOCAL_RANK")) e.local_rank = env_int("LOCAL_RANK", lr, 0, e.world_size - 1);
  if (const char* lw = get("LOCAL_WORLD_SIZE")) e.local_world_size = env_int("LOCAL_WORLD_SIZE", lw, 1, e.world_size);
  const char* addr = get("MASTER_ADDR");
  const char* port = get("MASTER_PORT");
  if (e.world_size > 1) {
    if (!addr)
      throw std::invalid_argument(fmt::format(
          "environment variable MASTER_ADDR is not set (WORLD_SIZE={}): give the address of the machine of rank 0",
          e.world_size));
    if (!port)
      throw std::invalid_argument(fmt::format(
          "environment variable MASTER_PORT is not set (WORLD_SIZE={}): give a free TCP port on rank 0's machine",
          e.world_size));
  }
  if (addr) e.master_addr = addr;
  if (port) e.master_port = env_int("MASTER_PORT", port, 1, 65535);
  return e;
}

std::optional<LaunchEnv> launch_env() {
  return parse_launch_env([](const char* n) { return std::getenv(n); });
}

std::pair<int64_t, int64_t> shard_range(int64_t batch, int rank, int size) {
  if (size < 1 || rank < 0 || rank >= size || batch < 0)
    throw std::invalid_argument(fmt::format("shard_range: rank {} of {} for {} rows", rank, size, batch));
  const int64_t base = batch / size, extra = batch % size;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

// ------------------------------------------------------------------ the group

struct ProcessGroup::Impl {
  int rank = 0, size = 1, local_rank = 0;
  double timeout = 300;
  std::string addr;
  int port = 0;
#if ADASWARM_HAVE_DIST
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
#endif

  [[noreturn]] void fail(const char* step, const std::exception& e) const {
    throw DistError(fmt::format(
        "rank {} of {}: {} failed: {} (another rank died, stopped, or did not answer within the {:g} s timeout; "
        "their own errors say why)",
        rank, size, step, short_message(e), timeout));
  }

#if ADASWARM_HAVE_DIST
  template <class F>
  void run(const char* step, F&& make_work) {
    try {
      auto work = make_work();
      work->wait();
    } catch (const DistError&) {
      throw;
    } catch (const std::exception& e) {
      fail(step, e);
    }
  }
#endif
};

bool available() {
#if ADASWARM_HAVE_DIST
  return true;
#else
  return false;
#endif
}

ProcessGroup::ProcessGroup() : impl_(std::make_unique<Impl>()) {}

ProcessGroup::ProcessGroup(const LaunchEnv& env, double timeout_seconds) : impl_(std::make_unique<Impl>()) {
  auto& I = *impl_;
  // At most 10^7 s (115 days): c10d adds the timeout to the clock in nanoseconds, and
  // 10^17 s overflowed into a timeout of -9223372036854775 s, failing at once.
  if (!(timeout_seconds > 0) || !std::isfinite(timeout_seconds) || timeout_seconds > 1e7)
    throw std::invalid_argument(fmt::format(
        "distributed timeout must be a positive number of seconds, at most 1e7 (115 days), got {}", timeout_seconds));
  if (env.world_size < 1 || env.rank < 0 || env.rank >= env.world_size)
    throw std::invalid_argument(fmt::format("RANK={} WORLD_SIZE={}: RANK must be in [0, WORLD_SIZE)", env.rank,
                                            env.world_size));
  I.rank = env.rank;
  I.size = env.world_size;
  I.local_rank = env.local_rank;
  I.timeout = timeout_seconds;
  I.addr = env.master_addr;
  I.port = env.master_port;
  if (I.size == 1) return;
#if !ADASWARM_HAVE_DIST
  throw std::runtime_error(fmt::format(
      "WORLD_SIZE={} asks for {} ranks, but this adaswarm was built without the distributed module (configure with "
      "the gloo headers installed: apt-get install libgloo-dev, and -DADASWARM_DIST=ON); unset RANK and WORLD_SIZE "
      "to run as one process",
      I.size, I.size));
#else
  // A name that does not resolve would only show as a connect timeout (300 s by default).
  {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(I.addr.c_str(), nullptr, &hints, &found);
    if (found) ::freeaddrinfo(found);
    if (rc == EAI_NONAME || rc == EAI_FAIL
#ifdef EAI_NODATA
        || rc == EAI_NODATA
#endif
    )
      throw DistError(fmt::format("rank {}: MASTER_ADDR={} does not resolve ({}): give the IP address or host name "
                                  "of rank 0's machine",
                                  I.rank, I.addr, ::gai_strerror(rc)));
  }
  const auto ms = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(timeout_seconds * 1000.0)));
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(I.port);
  so.isServer = I.rank == 0;
  so.numWorkers = static_cast<std::size_t>(I.size);
  so.waitWorkers = true;
  so.timeout = ms;
  try {
    I.store = c10::make_intrusive<c10d::TCPStore>(I.addr, so);
  } catch (const std::exception& e) {
    const std::string m = short_message(e);
    if (I.rank == 0 && (m.find("already in use") != std::string::npos || m.find("errno: 98") != std::string::npos))
      throw DistError(fmt::format(
          "MASTER_PORT={}: the port is in use on this machine (another run, or an earlier one still holding it); "
          "choose another MASTER_PORT ({})",
          I.port, m));
    if (I.rank == 0 && m.find("clients joined") != std::string::npos)
      throw DistError(fmt::format(
          "rank 0: not all of the WORLD_SIZE={} ranks arrived at the rendezvous on port {} within {:g} s ({}): "
          "was every rank started, with the same MASTER_ADDR / MASTER_PORT?",
          I.size, I.port, timeout_seconds, m));
    if (I.rank == 0)
      throw DistError(fmt::format("rank 0: cannot host the rendezvous store on {}:{}: {}", I.addr, I.port, m));
    throw DistError(fmt::format(
        "rank {}: cannot join the rendezvous store at MASTER_ADDR={} MASTER_PORT={} within {:g} s ({}): is rank 0 "
        "running, and are MASTER_ADDR / MASTER_PORT those of rank 0's machine?",
        I.rank, I.addr, I.port, timeout_seconds, m));
  }
  try {
    auto opts = c10d::ProcessGroupGloo::Options::create(ms);
    if (const char* ifn = std::getenv("GLOO_SOCKET_IFNAME"); ifn && *ifn)
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifn));
    else if (is_loopback(I.addr))
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
      opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    opts->threads = 2;
    I.pg = c10::make_intrusive<c10d::ProcessGroupGloo>(I.store, I.rank, I.size, opts);
  } catch (const std::exception& e) {
    throw DistError(fmt::format(
        "rank {} of {}: not all of the WORLD_SIZE={} ranks connected within {:g} s ({}): was every rank started, "
        "with the same MASTER_ADDR / MASTER_PORT? (machines with several networks: set GLOO_SOCKET_IFNAME)",
        I.rank, I.size, I.size, timeout_seconds, short_message(e)));
  }
#endif
}

ProcessGroup::~ProcessGroup() = default;

std::shared_ptr<ProcessGroup> ProcessGroup::from_environment(double timeout_seconds) {
  const auto env = launch_env();
  if (!env) return std::make_shared<ProcessGroup>();
  return std::make_shared<ProcessGroup>(*env, timeout_seconds);
}

int ProcessGroup::rank() const { return impl_->rank; }
int ProcessGroup::size() const { return impl_->size; }
int ProcessGroup::local_rank() const { return impl_->local_rank; }
double ProcessGroup::timeout_seconds() const { return impl_->timeout; }

namespace {

/// One CPU contiguous buffer per dtype holding `tensors` (flattened, in order),
/// with the way back.
struct Packed {
  std::vector<at::Tensor> buffers;
  std::vector<std::pair<size_t, int64_t>> where;  // tensor i -> (buffer, offset)
};

[[maybe_unused]] Packed pack(const std::vector<at::Tensor>& tensors) {
  Packed p;
  std::map<at::ScalarType, size_t> index;
  std::vector<std::vector<at::Tensor>> parts;
  std::vector<int64_t> sizes;
  p.where.resize(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto st = tensors[i].scalar_type();
    auto it = index.find(st);
    if (it == index.end()) {
      it = index.emplace(st, parts.size()).first;
      parts.emplace_back();
      sizes.push_back(0);
    }
    p.where[i] = {it->second, sizes[it->second]};
    sizes[it->second] += tensors[i].numel();
    parts[it->second].push_back(tensors[i].detach().to(at::kCPU).reshape({-1}));
  }
  for (size_t b = 0; b < parts.size(); ++b) {
    const auto& ps = parts[b];
    // One CPU contiguous tensor: the collective works on it in place (no copy).
    if (ps.size() == 1 && ps[0].is_contiguous())
      p.buffers.push_back(ps[0]);
    else
      p.buffers.push_back(ps.size() == 1 ? ps[0].clone() : at::cat(ps));
  }
  return p;
}

[[maybe_unused]] void unpack(const Packed& p, std::vector<at::Tensor>& tensors) {
  at::NoGradGuard ng;
  for (size_t i = 0; i < tensors.size(); ++i) {
    auto& t = tensors[i];
    const auto [b, off] = p.where[i];
    auto src = p.buffers[b].narrow(0, off, t.numel()).view(t.sizes());
    if (src.data_ptr() == t.data_ptr() && t.is_contiguous()) continue;  // worked in place
    t.detach().copy_(src);
  }
}

}  // namespace

void ProcessGroup::broadcast(std::vector<at::Tensor>& tensors, int root) {
  auto& I = *impl_;
  if (root < 0 || root >= I.size) throw std::invalid_argument(fmt::format("broadcast: root {} of {}", root, I.size));
  if (I.size == 1 || tensors.empty()) return;
#if ADASWARM_HAVE_DIST
  Packed p = pack(tensors);
  for (auto& buf : p.buffers) {
    std::vector<at::Tensor> one{buf};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    I.run("broadcast", [&] { return I.pg->broadcast(one, o); });
  }
  unpack(p, tensors);
#endif
}

void ProcessGroup::all_reduce(std::vector<at::Tensor>& tensors, Op op) {
  auto& I = *impl_;
  if (I.size == 1 || tensors.empty()) return;
#if ADASWARM_HAVE_DIST
  Packed p = pack(tensors);
  c10d::AllreduceOptions o;
  o.reduceOp = op == Op::Sum ? c10d::ReduceOp::SUM : op == Op::Max ? c10d::ReduceOp::MAX : c10d::ReduceOp::MIN;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  try {
    for (auto& buf : p.buffers) {
      std::vector<at::Tensor> one{buf};
      works.push_back(I.pg->allreduce(one, o));
    }
    for (auto& w : works) w->wait();
  } catch (const std::exception& e) {
    I.fail("all-reduce", e);
  }
  unpack(p, tensors);
#else
  (void)op;
#endif
}

std::vector<at::Tensor> ProcessGroup::all_gather(const at::Tensor& in) {
  auto& I = *impl_;
  if (I.size == 1) return {in.clone()};
  std::vector<at::Tensor> result;
#if ADASWARM_HAVE_DIST
  std::vector<at::Tensor> input{in.detach().to(at::kCPU).contiguous()};
  std::vector<std::vector<at::Tensor>> output(1);
  for (int r = 0; r < I.size; ++r) output[0].push_back(at::empty_like(input[0]));
  I.run("all-gather", [&] { return I.pg->allgather(output, input); });
  for (auto& t : output[0]) result.push_back(t.to(in.device()));
#endif
  return result;
}

std::vector<std::string> ProcessGroup::all_gather_bytes(const std::string& bytes) {
  auto& I = *impl_;
  if (I.size == 1) return {bytes};
  const auto lens = all_gather(at::tensor({static_cast<int64_t>(bytes.size())}, at::kLong));
  int64_t longest = 0;
  for (const auto& l : lens) longest = std::max(longest, l.item<int64_t>());
  auto buf = at::zeros({std::max<int64_t>(longest, 1)}, at::kByte);
  std::memcpy(buf.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  const auto all = all_gather(buf);
  std::vector<std::string> out;
  for (int r = 0; r < I.size; ++r)
    out.emplace_back(reinterpret_cast<const char*>(all[r].data_ptr<uint8_t>()),
                     static_cast<size_t>(lens[r].item<int64_t>()));
  return out;
}

std::string ProcessGroup::broadcast_bytes(const std::string& bytes, int root) {
  auto& I = *impl_;
  if (I.size == 1) return bytes;
  std::vector<at::Tensor> len{at::tensor({static_cast<int64_t>(I.rank == root ? bytes.size() : 0)}, at::kLong)};
  broadcast(len, root);
  const int64_t n = len[0].item<int64_t>();
  std::vector<at::Tensor> buf{at::zeros({std::max<int64_t>(n, 1)}, at::kByte)};
  if (I.rank == root) std::memcpy(buf[0].data_ptr<uint8_t>(), bytes.data(), bytes.size());
  broadcast(buf, root);
  return std::string(reinterpret_cast<const char*>(buf[0].data_ptr<uint8_t>()), static_cast<size_t>(n));
}

void ProcessGroup::barrier() {
  auto& I = *impl_;
  if (I.size == 1) return;
#if ADASWARM_HAVE_DIST
  // An all-reduce rather than Gloo's barrier: same bound, same error path.
  std::vector<at::Tensor> t{at::zeros({1}, at::kInt)};
  all_reduce(t);
#endif
}

void ProcessGroup::agree(const std::function<void()>& body) {
  std::exception_ptr mine;
  std::string message;
  try {
    body();
  } catch (const std::exception& e) {
    mine = std::current_exception();
    message = short_message(e);
  } catch (...) {
    mine = std::current_exception();
    message = "unknown error";
  }
  if (impl_->size == 1) {
    if (mine) std::rethrow_exception(mine);
    return;
  }
  const auto all = all_gather_bytes((mine ? "1" : "0") + message);
  if (mine) std::rethrow_exception(mine);
  for (int r = 0; r < impl_->size; ++r)
    if (!all[r].empty() && all[r][0] == '1')
      throw DistError(fmt::format("rank {} failed: {}", r, all[r].substr(1)));
}

// ------------------------------------------------------------------ model helpers

void broadcast_module(ProcessGroup& group, torch::nn::Module& module) {
  if (!group.distributed()) return;
  std::vector<at::Tensor> ts;
  for (const auto& p : module.parameters()) ts.push_back(p);
  for (const auto& b : module.buffers()) ts.push_back(b);
  group.broadcast(ts, 0);
}

void require_same_settings(ProcessGroup& group, const Settings& settings) {
  if (!group.distributed()) return;
  std::string mine;
  for (const auto& [name, value] : settings) {
    mine += name;
    mine += '\0';
    mine += value;
    mine += '\0';
  }
  const auto all = group.all_gather_bytes(mine);
  auto parse = [](const std::string& b) {
    Settings out;
    size_t i = 0;
    while (i < b.size()) {
      const size_t n = b.find('\0', i);
      const size_t v = n == std::string::npos ? std::string::npos : b.find('\0', n + 1);
      if (v == std::string::npos) break;
      out.emplace_back(b.substr(i, n - i), b.substr(n + 1, v - n - 1));
      i = v + 1;
    }
    return out;
  };
  std::vector<Settings> got;
  for (const auto& b : all) got.push_back(parse(b));
  const Settings& ref = got[0];
  std::vector<std::string> diffs;
  for (int r = 1; r < group.size() && diffs.empty(); ++r) {
    const Settings& theirs = got[static_cast<size_t>(r)];
    bool same_names = theirs.size() == ref.size();
    for (size_t i = 0; same_names && i < ref.size(); ++i) same_names = theirs[i].first == ref[i].first;
    if (!same_names)
      diffs.push_back(fmt::format("rank {} checks other settings than rank 0 (a different adaswarm build?)", r));
  }
  const bool comparable = diffs.empty();
  for (size_t i = 0; comparable && i < ref.size(); ++i) {
    for (int r = 1; r < group.size(); ++r) {
      const auto& v = got[static_cast<size_t>(r)][i].second;
      if (v != ref[i].second) {
        diffs.push_back(fmt::format("{} is {} on rank 0 but {} on rank {}", ref[i].first, ref[i].second, v, r));
        break;
      }
    }
  }
  if (diffs.empty()) return;
  std::string list;
  for (const auto& d : diffs) list += (list.empty() ? "" : "; ") + d;
  throw std::invalid_argument(fmt::format(
      "the ranks were started with different settings (every rank must run the same command): {}", list));
}

bool any_rank(ProcessGroup& group, bool flag) {
  if (!group.distributed()) return flag;
  std::vector<at::Tensor> t{at::full({1}, flag ? 1 : 0, at::kInt)};
  group.all_reduce(t, ProcessGroup::Op::Max);
  return t[0].item<int>() != 0;
}

void all_reduce_sum(ProcessGroup& group, std::vector<double>& values) {
  if (!group.distributed() || values.empty()) return;
  std::vector<at::Tensor> t{at::from_blob(values.data(), {static_cast<int64_t>(values.size())}, at::kDouble).clone()};
  group.all_reduce(t);
  std::memcpy(values.data(), t[0].data_ptr<double>(), values.size() * sizeof(double));
}

struct GradientAverager::Impl {
  std::shared_ptr<ProcessGroup> group;
  std::vector<at::Tensor> params;
  std::vector<std::vector<size_t>> buckets;  // indices into params, one dtype per bucket
  int64_t bytes = 0;
};

GradientAverager::GradientAverager(std::shared_ptr<ProcessGroup> group, std::vector<at::Tensor> parameters,
                                   int64_t bucket_bytes)
    : impl_(std::make_unique<Impl>()) {
  if (!group) throw std::invalid_argument("GradientAverager: no process group");
  if (bucket_bytes < 1) throw std::invalid_argument("GradientAverager: bucket_bytes must be >= 1");
  auto& I = *impl_;
  I.group = std::move(group);
  I.params = std::move(parameters);
  // Per dtype, in parameter order, cut when a bucket would pass bucket_bytes.
  std::map<at::ScalarType, std::vector<size_t>> by_type;
  for (size_t i = 0; i < I.params.size(); ++i) by_type[I.params[i].scalar_type()].push_back(i);
  for (const auto& [st, idx] : by_type) {
    std::vector<size_t> cur;
    int64_t cur_bytes = 0;
    for (size_t i : idx) {
      const int64_t b = I.params[i].numel() * static_cast<int64_t>(I.params[i].element_size());
      if (!cur.empty() && cur_bytes + b > bucket_bytes) {
        I.buckets.push_back(std::move(cur));
        cur.clear();
        cur_bytes = 0;
      }
      cur.push_back(i);
      cur_bytes += b;
      I.bytes += b;
    }
    if (!cur.empty()) I.buckets.push_back(std::move(cur));
  }
}

GradientAverager::~GradientAverager() = default;
int64_t GradientAverager::buckets() const { return static_cast<int64_t>(impl_->buckets.size()); }
int64_t GradientAverager::bytes() const { return impl_->bytes; }

void GradientAverager::average(double weight) {
  auto& I = *impl_;
  const int n = I.group->size();
  if (weight < 0) weight = 1.0 / n;
  if (!std::isfinite(weight)) throw std::invalid_argument("GradientAverager: the weight must be finite");
  at::NoGradGuard ng;
  std::vector<at::Tensor> grads;
  grads.reserve(I.params.size());
  for (auto& p : I.params) {
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
    grads.push_back(p.grad());
  }
  if (n == 1 && weight == 1.0) return;
  for (auto& g : grads) g.mul_(weight);
  // One all-reduce per bucket (all_reduce packs the bucket into one buffer).
  for (const auto& bucket : I.buckets) {
    std::vector<at::Tensor> gs;
    gs.reserve(bucket.size());
    for (size_t i : bucket) gs.push_back(grads[i]);
    I.group->all_reduce(gs, ProcessGroup::Op::Sum);
  }
}

}  // namespace adaswarm::dist
