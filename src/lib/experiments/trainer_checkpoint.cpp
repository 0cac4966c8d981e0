// The trainer's checkpoints: the checkpoint folder, the atomic write (every
// rank's generator states gathered, rank 0 writes) and the resume (rank 0
// reads, every rank restores; each record checked before use).
#include "trainer_impl.h"

#include <ATen/CPUGeneratorImpl.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "adaswarm/util/errors.h"
#include "adaswarm/util/tensor_check.h"
#include "adaswarm/util/zip_check.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace adaswarm::experiments {
namespace {

constexpr const char* kCheckpointFormat = "adaswarm-train-checkpoint-1";

// ---- atomic checkpoint write (util/atomic_file.h: temp file, fsync, rename) ----------
void save_atomically(torch::serialize::OutputArchive& archive, const std::string& path) {
  std::ostringstream bytes;
  try {
    archive.save_to(bytes);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: cannot serialise checkpoint: {}", path, e.what()));
  }
  util::write_file_atomic(path, bytes.str());
}

EpochRecord record_from_json(const json& j) {
  EpochRecord r;
  r.epoch = j.at("epoch").get<int64_t>();
  r.train_loss = j.at("train_loss").get<double>();
  r.train_accuracy = j.at("train_accuracy").get<double>();
  r.test_loss = j.at("test_loss").get<double>();
  r.test_accuracy = j.at("test_accuracy").get<double>();
  r.train_seconds = j.at("train_seconds").get<double>();
  r.data_seconds = j.at("data_seconds").get<double>();
  r.eval_seconds = j.at("eval_seconds").get<double>();
  r.images_per_second = j.at("images_per_second").get<double>();
  return r;
}

// Each record is checked for its type and range before use: a damaged or
// hand-made file is named, never a LibTorch or JSON backtrace.
std::runtime_error malformed(const std::string& path, const std::string& what) {
  return std::runtime_error(fmt::format("{}: the checkpoint's {} is malformed", path, what));
}

int64_t read_int_record(torch::serialize::InputArchive& ar, const std::string& path, const char* key, int64_t lo,
                        int64_t hi) {
  c10::IValue x;
  if (!ar.try_read(key, x) || !x.isInt())
    throw malformed(path, fmt::format("\"{}\" record (missing or not an integer)", key));
  const int64_t n = x.toInt();
  if (n < lo || n > hi)
    throw std::runtime_error(fmt::format("{}: the checkpoint's \"{}\" is {}, expected {}..{}", path, key, n, lo, hi));
  return n;
}

json read_json_record(torch::serialize::InputArchive& ar, const std::string& path, const char* key) {
  c10::IValue x;
  if (!ar.try_read(key, x) || !x.isString())
    throw malformed(path, fmt::format("\"{}\" record (missing or not text)", key));
  try {
    return json::parse(x.toStringRef());
  } catch (const std::exception&) {
    throw malformed(path, fmt::format("\"{}\" record (not JSON)", key));
  }
}

}  // namespace

json epoch_record_json(const EpochRecord& r) {
  return json{{"epoch", r.epoch},
              {"train_loss", r.train_loss},
              {"train_accuracy", r.train_accuracy},
              {"test_loss", r.test_loss},
              {"test_accuracy", r.test_accuracy},
              {"train_seconds", r.train_seconds},
              {"data_seconds", r.data_seconds},
              {"eval_seconds", r.eval_seconds},
              {"images_per_second", r.images_per_second}};
}

/// This rank's own generator states (swarm loss, LibTorch CPU), as bytes.
std::string Trainer::Impl::rank_state() const {
  torch::serialize::OutputArchive a;
  if (swarm_loss) {
    torch::serialize::OutputArchive sl;
    swarm_loss->save(sl);
    a.write("swarm_loss", sl);
  }
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    a.write("rng_cpu", gen.get_state());
  }
  std::ostringstream bytes;
  a.save_to(bytes);
  return bytes.str();
}

void Trainer::Impl::load_rank_state(const std::string& bytes) {
  torch::serialize::InputArchive a;
  a.load_from(bytes.data(), bytes.size());
  if (swarm_loss) {
    torch::serialize::InputArchive sl;
    a.read("swarm_loss", sl);
    swarm_loss->load(sl);
  }
  at::Tensor state;
  a.read("rng_cpu", state);
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state.to(torch::kCPU));
}

/// Every rank calls it (the ranks' generator states are gathered); rank 0 writes.
void Trainer::Impl::save_checkpoint() {
  if (cfg.checkpoint_dir.empty()) return;
  std::vector<std::string> states;
  if (group->distributed()) states = group->all_gather_bytes(rank_state());
  group->agree([&] {
    if (lead) write_checkpoint(states);
  });
  last_checkpoint = checkpoint_file();
}

void Trainer::Impl::write_checkpoint(const std::vector<std::string>& rank_states) {
  std::error_code ec;
  fs::create_directories(cfg.checkpoint_dir, ec);
  if (!fs::is_directory(cfg.checkpoint_dir))
    throw std::runtime_error(fmt::format("{}: cannot create checkpoint directory", cfg.checkpoint_dir));
  torch::serialize::OutputArchive ar;
  ar.write("format", c10::IValue(std::string(kCheckpointFormat)));
  ar.write("identity", c10::IValue(identity().dump()));
  ar.write("epoch", c10::IValue(epoch));
  ar.write("batch", c10::IValue(batch));
  ar.write("running", torch::tensor({run_loss, run_correct, run_seen, run_train_s, run_data_s}, torch::kDouble));
  json h = json::array();
  for (const auto& r : history) h.push_back(epoch_record_json(r));
  ar.write("history", c10::IValue(h.dump()));
  torch::serialize::OutputArchive m, o;
  model->save(m);
  ar.write("model", m);
  optimizer->save(o);  // AdaSwarm: includes its swarm loss's RNG state
  ar.write("optimizer", o);
  if (swarm_loss && cfg.optimizer != "adaswarm") {
    torch::serialize::OutputArchive s;
    swarm_loss->save(s);
    ar.write("swarm_loss", s);
  }
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    ar.write("rng_cpu", gen.get_state());
  }
  if (device.is_cuda()) {
    auto gen = at::globalContext().defaultGenerator(device);
    std::lock_guard<std::mutex> lock(gen.mutex());
    ar.write("rng_cuda", gen.get_state());
  }
  // Data parallel: the world size and ranks 1..N-1's generator states (rank 0's are above).
  ar.write("world_size", c10::IValue(static_cast<int64_t>(group->size())));
  for (size_t r = 1; r < rank_states.size(); ++r) {
    const auto& b = rank_states[r];
    ar.write(fmt::format("rank_state_{}", r),
             torch::from_blob(const_cast<char*>(b.data()), {static_cast<int64_t>(b.size())}, torch::kUInt8).clone());
  }
  save_atomically(ar, checkpoint_file());
}

// Before any training: the checkpoint folder exists and takes a new file, an
// interrupted write's temporary files are gone, and an existing checkpoint is
// only replaced when asked to.
void Trainer::Impl::prepare_checkpoint_dir() {
  const std::string dir = cfg.checkpoint_dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw std::runtime_error(fmt::format("--checkpoint {}: cannot create the checkpoint directory: {}", dir,
                                         ec ? ec.message() : "not a directory"));
  const std::string prefix = "checkpoint.pt.tmp";
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() != prefix.size() + 6 || name.compare(0, prefix.size(), prefix) != 0) continue;
    std::error_code rec;
    if (!it->is_regular_file(rec)) continue;
    if (fs::remove(it->path(), rec))
      *out_or_null() << fmt::format("removed {}: the temporary file of an interrupted checkpoint write",
                                    it->path().string())
                     << std::endl;
  }
  const std::string path = checkpoint_file();
  const std::string tmpl = (fs::path(dir) / (prefix + "XXXXXX")).string();
  std::vector<char> probe(tmpl.c_str(), tmpl.c_str() + tmpl.size() + 1);
  const int fd = ::mkstemp(probe.data());
  if (fd < 0)
    throw std::runtime_error(fmt::format("--checkpoint {}: cannot write a checkpoint there: {}", dir,
                                         std::strerror(errno)));
  ::close(fd);
  ::unlink(probe.data());
  if (fs::is_directory(path))
    throw std::runtime_error(fmt::format("--checkpoint: {} is a directory, not a checkpoint file", path));
  if (cfg.resume && cfg.overwrite)
    throw std::invalid_argument("--resume and --overwrite exclude each other");
  if (!cfg.resume && !cfg.overwrite && fs::exists(fs::symlink_status(path)))
    throw std::runtime_error(fmt::format(
        "{} exists: pass --resume to continue that run, --overwrite to replace it, or another --checkpoint", path));
}

std::ostream* Trainer::Impl::out_or_null() {
  static std::ostringstream sink;
  return out ? out : &sink;
}

/// Every rank calls it: rank 0 reads the file and sends its bytes to the
/// others (no shared file system needed).
void Trainer::Impl::load_checkpoint() {
  const std::string path = checkpoint_file();
  if (path.empty()) throw std::invalid_argument("--resume needs --checkpoint DIR");
  torch::serialize::InputArchive ar;
  read_checkpoint(path, ar);
  check_checkpoint_run(ar, path);
  restore_position(ar, path);
  restore_state(ar, path);
  last_checkpoint = path;
}

void Trainer::Impl::read_checkpoint(const std::string& path, torch::serialize::InputArchive& ar) {
  std::string bytes;
  group->agree([&] {
    if (!lead) return;
    if (!fs::is_regular_file(path)) throw std::runtime_error(fmt::format("{}: no checkpoint to resume from", path));
    std::ifstream f(path, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    if (!f) throw std::runtime_error(fmt::format("{}: cannot read the checkpoint", path));
    bytes = ss.str();
  });
  bytes = group->broadcast_bytes(bytes);
  util::verify_zip_bytes(bytes, path);  // LibTorch checks no CRC and can crash on a corrupted file
  try {
    ar.load_from(bytes.data(), bytes.size(), device);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: not a readable checkpoint: {}", path, e.what()));
  }
  c10::IValue v;
  if (!ar.try_read("format", v) || !v.isString() || v.toStringRef() != kCheckpointFormat)
    throw std::runtime_error(fmt::format("{}: not an adaswarm train checkpoint", path));
}

void Trainer::Impl::check_checkpoint_run(torch::serialize::InputArchive& ar, const std::string& path) const {
  const json saved = read_json_record(ar, path, "identity"), now = identity();
  if (!saved.is_object()) throw malformed(path, "\"identity\" record (not a JSON object)");
  std::string diff;
  for (auto it = now.begin(); it != now.end(); ++it)
    if (!saved.contains(it.key()) || saved.at(it.key()) != it.value())
      diff += fmt::format("{}{}: checkpoint {} vs now {}", diff.empty() ? "" : "; ", it.key(),
                          saved.contains(it.key()) ? saved.at(it.key()).dump() : "(none)", it.value().dump());
  if (!diff.empty()) throw std::runtime_error(fmt::format("{}: checkpoint is from a different run ({})", path, diff));
  int64_t saved_world = 1;  // checkpoints before data parallelism: one process
  c10::IValue v;
  if (ar.try_read("world_size", v) && v.isInt()) saved_world = v.toInt();
  if (saved_world != group->size())
    throw std::runtime_error(fmt::format(
        "{}: the checkpoint was written by a run of {} rank(s) and this run has WORLD_SIZE={}: resuming at "
        "another world size is refused (each rank's shard of the batches and its generator stream depend on "
        "it); resume with {} rank(s), or start over with --overwrite",
        path, saved_world, group->size(), saved_world));
}

void Trainer::Impl::restore_position(torch::serialize::InputArchive& ar, const std::string& path) {
  epoch = read_int_record(ar, path, "epoch", 0, std::numeric_limits<int32_t>::max());
  batch = read_int_record(ar, path, "batch", 0, train_loader->num_batches() - 1);
  at::Tensor running;
  ar.read("running", running);
  if (!util::storage_covers(running) || running.scalar_type() != torch::kDouble || running.numel() != 5)
    throw std::runtime_error(fmt::format("{}: the checkpoint's running sums are malformed", path));
  running = running.to(torch::kCPU).contiguous();
  const auto* r = running.data_ptr<double>();
  run_loss = r[0], run_correct = r[1], run_seen = r[2], run_train_s = r[3], run_data_s = r[4];
  const json h = read_json_record(ar, path, "history");
  if (!h.is_array() || h.size() != static_cast<size_t>(epoch))
    throw malformed(path, fmt::format("\"history\" record (expected a list of {} epoch records)", epoch));
  history.clear();
  for (const auto& j : h) {
    try {
      history.push_back(record_from_json(j));
    } catch (const json::exception& e) {
      throw malformed(path, fmt::format("\"history\" record ({})", util::json_message(e)));
    }
    if (history.back().epoch != static_cast<int64_t>(history.size()))
      throw malformed(path,
                      fmt::format("\"history\" record (epoch {} at position {})", history.back().epoch, history.size()));
  }
}

void Trainer::Impl::restore_state(torch::serialize::InputArchive& ar, const std::string& path) {
  torch::serialize::InputArchive m, o;
  ar.read("model", m);
  model->load(m);
  for (const auto& t : model->parameters()) util::check_storage(t, path + ": a model parameter");
  for (const auto& t : model->buffers()) util::check_storage(t, path + ": a model buffer");
  model->to(device);
  ar.read("optimizer", o);
  optimizer->load(o);
  if (swarm_loss && cfg.optimizer != "adaswarm") {
    torch::serialize::InputArchive s;
    ar.read("swarm_loss", s);
    swarm_loss->load(s);
  }
  at::Tensor state;
  ar.read("rng_cpu", state);
  util::check_storage(state, path + ": the generator state");
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state.to(torch::kCPU));
  }
  if (device.is_cuda()) {
    ar.read("rng_cuda", state);
    auto gen = at::globalContext().defaultGenerator(device);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state.to(torch::kCPU));
  }
  if (group->rank() > 0) {  // this rank's own generators
    at::Tensor mine;
    ar.read(fmt::format("rank_state_{}", group->rank()), mine);
    util::check_storage(mine, path + ": this rank's state");
    mine = mine.to(torch::kCPU).contiguous();
    load_rank_state(
        std::string(reinterpret_cast<const char*>(mine.data_ptr<uint8_t>()), static_cast<size_t>(mine.numel())));
  }
}

}  // namespace adaswarm::experiments
