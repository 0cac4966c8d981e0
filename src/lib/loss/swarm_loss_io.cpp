// The swarm loss's settings: their names, the presets and their validation,
// as JSON; and the loss's save / load: generator, settings, warm swarm
// (positions and velocities) and the last best (SwarmStart::Previous), so
// that a loaded loss continues exactly where the saved one stopped.
#include <torch/serialize/archive.h>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adaswarm/loss/swarm_loss.h"
#include "adaswarm/util/tensor_check.h"
#include "swarm_loss_state.h"

namespace adaswarm {

// ---------------------------------------------------------------------------
// Names and options
// ---------------------------------------------------------------------------
const char* to_string(LossKind k) {
  switch (k) {
    case LossKind::MSE: return "mse";
    case LossKind::MAE: return "mae";
    case LossKind::BCE: return "bce";
    case LossKind::BCEWithLogits: return "bce-logits";
    case LossKind::CrossEntropy: return "ce";
    case LossKind::Huber: return "huber";
    case LossKind::SmoothL1: return "smooth-l1";
    case LossKind::Hinge: return "hinge";
    case LossKind::Custom: return "custom";
  }
  return "?";
}

LossKind loss_from_string(const std::string& s) {
  if (s == "mse") return LossKind::MSE;
  if (s == "mae" || s == "l1") return LossKind::MAE;
  if (s == "bce") return LossKind::BCE;
  if (s == "bce-logits" || s == "bce_logits") return LossKind::BCEWithLogits;
  if (s == "ce" || s == "cross-entropy" || s == "cross_entropy") return LossKind::CrossEntropy;
  if (s == "huber") return LossKind::Huber;
  if (s == "smooth-l1" || s == "smooth_l1") return LossKind::SmoothL1;
  if (s == "hinge") return LossKind::Hinge;
  throw std::invalid_argument("unknown loss '" + s +
                              "' (expected mse, mae, bce, bce-logits, ce, huber, smooth-l1 or hinge)");
}

const char* to_string(Preset p) {
  switch (p) {
    case Preset::Paper: return "paper";
    case Preset::Reference: return "reference";
    case Preset::Search: return "search";
  }
  return "?";
}

Preset preset_from_string(const std::string& s) {
  if (s == "paper") return Preset::Paper;
  if (s == "reference") return Preset::Reference;
  if (s == "search") return Preset::Search;
  throw std::invalid_argument("unknown preset '" + s + "' (expected paper, reference or search)");
}

const char* to_string(SwarmStart s) {
  switch (s) {
    case SwarmStart::Auto: return "auto";
    case SwarmStart::Targets: return "targets";
    case SwarmStart::Output: return "output";
    case SwarmStart::Center: return "center";
    case SwarmStart::Previous: return "previous";
  }
  return "?";
}

SwarmStart start_from_string(const std::string& s) {
  if (s == "auto") return SwarmStart::Auto;
  if (s == "targets" || s == "target") return SwarmStart::Targets;
  if (s == "output") return SwarmStart::Output;
  if (s == "center" || s == "centre") return SwarmStart::Center;
  if (s == "previous") return SwarmStart::Previous;
  throw std::invalid_argument("unknown swarm start '" + s + "' (expected auto, targets, output, center or previous)");
}

const char* to_string(Bests b) {
  switch (b) {
    case Bests::Batch: return "batch";
    case Bests::Row: return "row";
    case Bests::Element: return "element";
  }
  return "?";
}

Bests bests_from_string(const std::string& s) {
  if (s == "batch") return Bests::Batch;
  if (s == "row" || s == "sample") return Bests::Row;
  if (s == "element") return Bests::Element;
  throw std::invalid_argument("unknown bests '" + s + "' (expected batch, row or element)");
}

const char* to_string(GradScale g) {
  switch (g) {
    case GradScale::Swarm: return "swarm";
    case GradScale::Unit: return "unit";
    case GradScale::RowClip: return "row-clip";
  }
  return "?";
}

GradScale grad_scale_from_string(const std::string& s) {
  if (s == "swarm") return GradScale::Swarm;
  if (s == "unit") return GradScale::Unit;
  if (s == "row-clip" || s == "row_clip") return GradScale::RowClip;
  throw std::invalid_argument("unknown gradient scale '" + s + "' (expected swarm, unit or row-clip)");
}

SwarmLossOptions::SwarmLossOptions() {
  swarm_.particles(10).iterations(5).c1(0.8).c2(0.9).beta(0.9).variant(swarm::Variant::EMPSO);
}

SwarmLossOptions SwarmLossOptions::preset(Preset p) {
  SwarmLossOptions o;
  if (p == Preset::Paper) {
    // The paper's UCI settings: eta = 1 - beta, true-gradient scale, momentum stored.
    o.swarm().particles(10).iterations(5).c1(0.8).c2(0.9).beta(0.9).store_momentum(true);
    o.eta(0.1).reference_scale(false).fitness_per_sample(true);
  } else if (p == Preset::Reference) {
    // The reference vision code: c1 = c2 = 2, beta 0.1, eta 0.4, the code's scale,
    // momentum never stored, element-wise "rotation" quirk, whole-batch fitness.
    o.swarm().particles(10).iterations(5).c1(2.0).c2(2.0).beta(0.1).store_momentum(false).reference_rotation(
        true);
    o.eta(0.4).reference_scale(true).fitness_per_sample(false);
  } else {
    // A global search per element (docs/fidelity.md): the paper's constants with
    // more particles and iterations, started around the output with a span that
    // reaches neighbouring basins, each element keeping its own best.
    o.swarm().particles(20).iterations(40).c1(0.8).c2(0.9).beta(0.9).store_momentum(true);
    o.eta(0.1).reference_scale(false).bests(Bests::Element).start(SwarmStart::Output).start_span(4.0).span_scale(1.0);
  }
  return o;
}

void SwarmLossOptions::validate() const {
  auto bad = [](const std::string& m) { throw std::invalid_argument("invalid swarm loss option: " + m); };
  // Enumerations set from a cast integer: each one of its named values.
  auto in_enum = [&](auto v, int last, const char* name) {
    const int i = static_cast<int>(v);
    if (i < 0 || i > last) bad(std::string(name) + " is not one of its values (got " + std::to_string(i) + ")");
  };
  in_enum(loss(), static_cast<int>(LossKind::Custom), "loss");
  in_enum(reduction(), static_cast<int>(Reduction::Sum), "reduction");
  in_enum(start(), static_cast<int>(SwarmStart::Previous), "start");
  in_enum(bests(), static_cast<int>(Bests::Element), "bests");
  in_enum(grad_scale(), static_cast<int>(GradScale::RowClip), "grad_scale");
  if (!(eta() > 0) || !std::isfinite(eta())) bad("eta must be > 0, got " + std::to_string(eta()));
  auto num = [](double v) {
    std::ostringstream os;
    os << v;
    return os.str();
  };
  if (!(start_noise() >= 0) || !std::isfinite(start_noise()))
    bad("start_noise must be finite and >= 0, got " + num(start_noise()));
  if (!(start_span() >= 0) || !std::isfinite(start_span()))
    bad("start_span must be finite and >= 0, got " + num(start_span()));
  if (!(span_scale() >= 0) || !std::isfinite(span_scale()))
    bad("span_scale must be finite and >= 0, got " + num(span_scale()));
  if (!(delta() > 0) || !std::isfinite(delta())) bad("delta must be finite and > 0, got " + num(delta()));
  if (warn_blind_after() < 0) bad("warn_blind_after must be >= 0, got " + std::to_string(warn_blind_after()));
  if (bests() == Bests::Element && (loss() == LossKind::CrossEntropy))
    bad("bests 'element' needs an element-wise loss; cross-entropy is per sample");
  if (ideal_limit() && loss() == LossKind::Custom)
    bad("ideal_limit needs a built-in loss (its minimiser is the target)");
  if (swarm().particles() < 1) bad("particles must be >= 1, got " + std::to_string(swarm().particles()));
  if (swarm().iterations() < 0) bad("iterations must be >= 0, got " + std::to_string(swarm().iterations()));
  // c-bar comes from the iterations: without one the paper's scale is 0 and the
  // gradient vanishes silently.
  if (swarm().iterations() == 0 && grad_scale() == GradScale::Swarm && !ideal_limit())
    bad("iterations must be >= 1 with grad_scale 'swarm' (its cbar comes from the iterations); use 'unit' or "
        "'row-clip' to read the start points only");
  swarm().validate(swarm().rows());  // the remaining swarm settings (shape-free checks)
}


namespace {
using json = nlohmann::json;

json number(double v) {
  if (std::isfinite(v)) return v;
  return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
}

[[noreturn]] void bad_json(const std::string& what) {
  throw std::invalid_argument("swarm loss settings (JSON): " + what);
}

double read_number(const json& j, const std::string& key) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const auto s = j.get<std::string>();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
  }
  bad_json("'" + key + "' must be a number, got " + j.dump());
}

int64_t read_int(const json& j, const std::string& key) {
  if (!j.is_number_integer()) bad_json("'" + key + "' must be an integer, got " + j.dump());
  return j.get<int64_t>();
}

bool read_bool(const json& j, const std::string& key) {
  if (!j.is_boolean()) bad_json("'" + key + "' must be true or false, got " + j.dump());
  return j.get<bool>();
}

std::string read_string(const json& j, const std::string& key) {
  if (!j.is_string()) bad_json("'" + key + "' must be a string, got " + j.dump());
  return j.get<std::string>();
}

std::vector<double> read_numbers(const json& j, const std::string& key) {
  if (!j.is_array()) bad_json("'" + key + "' must be an array, got " + j.dump());
  std::vector<double> v;
  for (const auto& e : j) v.push_back(read_number(e, key));
  return v;
}

const char* random_mode_name(swarm::RandomMode m) {
  return m == swarm::RandomMode::PerCoordinate ? "per-coordinate" : "per-particle";
}

json write_numbers(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(number(x));
  return a;
}

uint64_t read_seed(const json& j, const std::string& key) {
  if (!j.is_number_unsigned()) bad_json("'" + key + "' must be an integer in [0, 2^64), got " + j.dump());
  return j.get<uint64_t>();
}
json write_plain(bool v) { return v; }
json write_plain(int64_t v) { return v; }
json write_plain(uint64_t v) { return v; }

// One setting: its JSON key, how it is written and how it is read back. The
// tables below are the only list of keys: writing, reading and the check for
// unknown keys all follow them.
template <class O>
struct Field {
  const char* key;
  json (*write)(const O&);
  void (*read)(O&, const json&);
};

// A setting `name` of O written with WRITE(o.name()) and set with o.name(READ(j, "name")).
#define ADASWARM_FIELD(O, name, READ, WRITE)                                   \
  Field<O> {                                                                   \
    #name, [](const O& o) -> json { return WRITE(o.name()); },                 \
        [](O& o, const json& j) { o.name(READ(j, #name)); }                    \
  }

using swarm::SwarmOptions;
const std::vector<Field<SwarmOptions>>& swarm_fields() {
  static const std::vector<Field<SwarmOptions>> f = {
      ADASWARM_FIELD(SwarmOptions, particles, read_int, write_plain),
      ADASWARM_FIELD(SwarmOptions, iterations, read_int, write_plain),
      {"variant", [](const SwarmOptions& o) -> json { return swarm::to_string(o.variant()); },
       [](SwarmOptions& o, const json& j) { o.variant(swarm::variant_from_string(read_string(j, "variant"))); }},
      ADASWARM_FIELD(SwarmOptions, c1, read_number, number),
      ADASWARM_FIELD(SwarmOptions, c2, read_number, number),
      ADASWARM_FIELD(SwarmOptions, beta, read_number, number),
      ADASWARM_FIELD(SwarmOptions, inertia, read_number, number),
      ADASWARM_FIELD(SwarmOptions, lambda, read_number, number),
      {"random_mode", [](const SwarmOptions& o) -> json { return random_mode_name(o.random_mode()); },
       [](SwarmOptions& o, const json& j) {
         const auto m = read_string(j, "random_mode");
         if (m != "per-particle" && m != "per-coordinate")
           bad_json("'random_mode' must be per-particle or per-coordinate, got '" + m + "'");
         o.random_mode(m == "per-coordinate" ? swarm::RandomMode::PerCoordinate : swarm::RandomMode::PerParticle);
       }},
      ADASWARM_FIELD(SwarmOptions, random_low, read_number, number),
      ADASWARM_FIELD(SwarmOptions, store_momentum, read_bool, write_plain),
      ADASWARM_FIELD(SwarmOptions, rotation_angle, read_number, number),
      ADASWARM_FIELD(SwarmOptions, reference_rotation, read_bool, write_plain),
      ADASWARM_FIELD(SwarmOptions, lower, read_numbers, write_numbers),
      ADASWARM_FIELD(SwarmOptions, upper, read_numbers, write_numbers),
      ADASWARM_FIELD(SwarmOptions, velocity_clamp, read_number, number),
      ADASWARM_FIELD(SwarmOptions, clamp_velocity_to_bounds, read_bool, write_plain),
      ADASWARM_FIELD(SwarmOptions, zero_velocity_at_bounds, read_bool, write_plain),
      ADASWARM_FIELD(SwarmOptions, seed, read_seed, write_plain),
      ADASWARM_FIELD(SwarmOptions, tolerance, read_number, number),
      ADASWARM_FIELD(SwarmOptions, stall_iterations, read_int, write_plain),
      ADASWARM_FIELD(SwarmOptions, stall_delta, read_number, number),
      ADASWARM_FIELD(SwarmOptions, rows, read_int, write_plain),
      ADASWARM_FIELD(SwarmOptions, fitness_per_row, read_bool, write_plain),
      ADASWARM_FIELD(SwarmOptions, asynchronous, read_bool, write_plain),
      ADASWARM_FIELD(SwarmOptions, random_lanes, read_int, write_plain),
  };
  return f;
}

template <class O>
json write_fields(const std::vector<Field<O>>& fields, const O& o) {
  json j = json::object();
  for (const auto& f : fields) j[f.key] = f.write(o);
  return j;
}

// Unknown keys are refused; known ones are applied in the table's order.
template <class O>
void read_fields(const std::vector<Field<O>>& fields, const json& j, O& o, const std::string& what) {
  for (auto it = j.begin(); it != j.end(); ++it)
    if (std::none_of(fields.begin(), fields.end(), [&](const Field<O>& f) { return it.key() == f.key; }))
      bad_json("unknown " + what + " '" + it.key() + "'");
  for (const auto& f : fields)
    if (j.contains(f.key)) f.read(o, j.at(f.key));
}

const std::vector<Field<SwarmLossOptions>>& loss_fields() {
  static const std::vector<Field<SwarmLossOptions>> f = {
      {"loss", [](const SwarmLossOptions& o) -> json { return to_string(o.loss()); },
       [](SwarmLossOptions& o, const json& j) {
         const auto s = read_string(j, "loss");
         o.loss(s == "custom" ? LossKind::Custom : loss_from_string(s));
       }},
      {"reduction", [](const SwarmLossOptions& o) -> json { return o.reduction() == Reduction::Mean ? "mean" : "sum"; },
       [](SwarmLossOptions& o, const json& j) {
         const auto s = read_string(j, "reduction");
         if (s != "mean" && s != "sum") bad_json("'reduction' must be mean or sum, got '" + s + "'");
         o.reduction(s == "mean" ? Reduction::Mean : Reduction::Sum);
       }},
      {"swarm", [](const SwarmLossOptions& o) -> json { return write_fields(swarm_fields(), o.swarm()); },
       [](SwarmLossOptions& o, const json& j) {
         if (!j.is_object()) bad_json("'swarm' must be an object");
         read_fields(swarm_fields(), j, o.swarm(), "swarm setting");
       }},
      ADASWARM_FIELD(SwarmLossOptions, eta, read_number, number),
      ADASWARM_FIELD(SwarmLossOptions, reference_scale, read_bool, write_plain),
      {"start", [](const SwarmLossOptions& o) -> json { return to_string(o.start()); },
       [](SwarmLossOptions& o, const json& j) { o.start(start_from_string(read_string(j, "start"))); }},
      ADASWARM_FIELD(SwarmLossOptions, start_noise, read_number, number),
      ADASWARM_FIELD(SwarmLossOptions, start_span, read_number, number),
      ADASWARM_FIELD(SwarmLossOptions, span_scale, read_number, number),
      {"bests", [](const SwarmLossOptions& o) -> json { return to_string(o.bests()); },
       [](SwarmLossOptions& o, const json& j) { o.bests(bests_from_string(read_string(j, "bests"))); }},
      ADASWARM_FIELD(SwarmLossOptions, warm_start, read_bool, write_plain),
      {"grad_scale", [](const SwarmLossOptions& o) -> json { return to_string(o.grad_scale()); },
       [](SwarmLossOptions& o, const json& j) {
         o.grad_scale(grad_scale_from_string(read_string(j, "grad_scale")));
       }},
      ADASWARM_FIELD(SwarmLossOptions, warn_blind_after, read_int, write_plain),
      ADASWARM_FIELD(SwarmLossOptions, delta, read_number, number),
      ADASWARM_FIELD(SwarmLossOptions, ideal_limit, read_bool, write_plain),
      ADASWARM_FIELD(SwarmLossOptions, compare_with_autograd, read_bool, write_plain),
  };
  return f;
}
#undef ADASWARM_FIELD
}  // namespace

std::string options_to_json(const SwarmLossOptions& o) { return write_fields(loss_fields(), o).dump(); }

SwarmLossOptions options_from_json(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    bad_json(std::string("not JSON: ") + e.what());
  }
  if (!j.is_object()) bad_json("expected an object");
  SwarmLossOptions o;
  try {
    read_fields(loss_fields(), j, o, "setting");
  } catch (const json::exception& e) {
    bad_json(e.what());
  }
  // Custom needs a callable, which a text cannot carry: validate the rest.
  SwarmLossOptions check = o;
  if (check.loss() == LossKind::Custom) check.loss(LossKind::MSE);
  check.validate();
  return o;
}

// ---------------------------------------------------------------------------
// Save / load
// ---------------------------------------------------------------------------
namespace {
at::Tensor float_tensor(const std::vector<float>& v) {
  return torch::from_blob(const_cast<float*>(v.data()), {static_cast<int64_t>(v.size())}, torch::kFloat).clone();
}
[[noreturn]] void bad_state(const std::string& what);
std::vector<float> float_vector(at::Tensor t) {
  if (!util::storage_covers(t)) bad_state("a tensor's data is shorter than the tensor it describes");
  t = t.to(at::kCPU, at::kFloat).contiguous().view(-1);
  return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
}
std::vector<int64_t> long_vector(at::Tensor t) {
  if (!util::storage_covers(t)) bad_state("a tensor's data is shorter than the tensor it describes");
  t = t.to(at::kCPU, at::kLong).contiguous().view(-1);
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}
[[noreturn]] void bad_state(const std::string& what) {
  throw std::runtime_error("swarm loss state in this checkpoint: " + what);
}
// a x b == n for positive a, b, without overflowing (the shapes come from a file).
bool product_is(int64_t a, int64_t b, size_t n) {
  if (a < 1 || b < 1) return false;
  const auto ua = static_cast<uint64_t>(a), ub = static_cast<uint64_t>(b);
  return ub <= static_cast<uint64_t>(n) / ua && ua * ub == static_cast<uint64_t>(n);
}
}  // namespace

void SwarmLoss::save(torch::serialize::OutputArchive& archive) const {
  const State& st = *state_;
  const std::lock_guard<std::mutex> lock(st.mutex);
  const auto& s = st.rng.state();
  std::vector<int64_t> words(s.begin(), s.end());
  archive.write("swarm_loss/rng", torch::tensor(words, torch::kLong));
  archive.write("swarm_loss/options", c10::IValue(options_to_json(st.options)));
  if (st.warm_ready && st.swarm) {
    const auto& sw = *st.swarm;
    archive.write("swarm_loss/warm_shape",
                  torch::tensor(std::vector<int64_t>{sw.particles(), sw.dim(), sw.options().rows(),
                                                     sw.options().fitness_per_row() ? 1 : 0},
                                torch::kLong));
    archive.write("swarm_loss/warm_x", float_tensor(sw.positions()));
    archive.write("swarm_loss/warm_v", float_tensor(sw.velocities()));
  }
  if (!st.previous_best.empty()) {
    archive.write("swarm_loss/previous_shape",
                  torch::tensor(std::vector<int64_t>{st.previous_B, st.previous_C}, torch::kLong));
    archive.write("swarm_loss/previous_best", float_tensor(st.previous_best));
  }
}

void SwarmLoss::load(torch::serialize::InputArchive& archive) {
  State& st = *state_;
  const std::lock_guard<std::mutex> lock(st.mutex);
  // Read and check everything first: a failed load leaves this loss as it was.
  at::Tensor t;
  if (!archive.try_read("swarm_loss/rng", t))
    bad_state("missing (no swarm_loss/rng): the file was not saved from a swarm loss or an AdaSwarm optimizer");
  const auto words = long_vector(t);  // a checkpoint mapped to another device reads back here
  if (words.size() != 4) bad_state("the generator state is malformed");
  std::array<uint64_t, 4> rng{};
  for (int i = 0; i < 4; ++i) rng[i] = static_cast<uint64_t>(words[i]);

  SwarmLossOptions options = st.options;
  c10::IValue v;
  if (archive.try_read("swarm_loss/options", v)) {  // older checkpoints have none: keep this loss's settings
    if (!v.isString()) bad_state("its settings are not a text");
    try {
      options = options_from_json(v.toStringRef());
    } catch (const std::exception& e) {
      bad_state(e.what());
    }
    const bool saved_custom = options.loss() == LossKind::Custom, here_custom = st.options.loss() == LossKind::Custom;
    if (saved_custom && !here_custom)
      bad_state("it was saved with a custom loss callable, which a file cannot hold: build this loss (or "
                "optimizer) with the same callable, then load");
    if (!saved_custom && here_custom)
      bad_state(std::string("it was saved with the built-in loss '") + to_string(options.loss()) +
                "', this one has a custom callable");
  }

  std::unique_ptr<swarm::Swarm<float>> warm;
  if (archive.try_read("swarm_loss/warm_shape", t)) {
    const auto shape = long_vector(t);
    at::Tensor tx, tv;
    if (shape.size() != 4 || !archive.try_read("swarm_loss/warm_x", tx) || !archive.try_read("swarm_loss/warm_v", tv))
      bad_state("the warm swarm is incomplete");
    const int64_t P = shape[0], D = shape[1], rows = shape[2];
    if (P != options.swarm().particles())
      bad_state("the warm swarm has " + std::to_string(P) + " particles, the settings " +
                std::to_string(options.swarm().particles()));
    if (D < 1 || rows < 1 || rows > D || D % rows != 0)
      bad_state("the warm swarm's shape is malformed");
    const auto x = float_vector(tx), vel = float_vector(tv);
    if (!product_is(P, D, x.size()) || !product_is(P, D, vel.size()))
      bad_state("the warm swarm's positions or velocities have the wrong size");
    swarm::SwarmOptions so = options.swarm();
    so.rows(rows).fitness_per_row(shape[3] != 0);
    try {
      warm = std::make_unique<swarm::Swarm<float>>(so, D);
    } catch (const std::exception& e) {
      bad_state(e.what());
    }
    warm->reset(x.data(), vel.data());
  }

  std::vector<float> previous;
  int64_t prev_B = 0, prev_C = 0;
  if (archive.try_read("swarm_loss/previous_shape", t)) {
    const auto shape = long_vector(t);
    at::Tensor tp;
    if (shape.size() != 2 || !archive.try_read("swarm_loss/previous_best", tp)) bad_state("the last best is incomplete");
    previous = float_vector(tp);
    prev_B = shape[0], prev_C = shape[1];
    if (!product_is(prev_B, prev_C, previous.size()))
      bad_state("the last best has the wrong size");
  }

  st.options = options;
  st.rng.set_state(rng);
  st.swarm = std::move(warm);
  st.warm_ready = static_cast<bool>(st.swarm);
  st.previous_best = std::move(previous);
  st.previous_B = prev_B;
  st.previous_C = prev_C;
}

}  // namespace adaswarm
