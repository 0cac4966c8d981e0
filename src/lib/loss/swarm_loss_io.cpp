// The swarm loss's settings as JSON, and its save / load: generator, settings,
// warm swarm (positions and velocities) and the last best (SwarmStart::Previous),
// so that a loaded loss continues exactly where the saved one stopped.
#include <torch/serialize/archive.h>
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adaswarm/loss/swarm_loss.h"
#include "adaswarm/util/tensor_check.h"
#include "swarm_loss_state.h"

namespace adaswarm {

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
}  // namespace

std::string options_to_json(const SwarmLossOptions& o) {
  const auto& s = o.swarm();
  json sj;
  sj["particles"] = s.particles();
  sj["iterations"] = s.iterations();
  sj["variant"] = swarm::to_string(s.variant());
  sj["c1"] = number(s.c1());
  sj["c2"] = number(s.c2());
  sj["beta"] = number(s.beta());
  sj["inertia"] = number(s.inertia());
  sj["lambda"] = number(s.lambda());
  sj["random_mode"] = random_mode_name(s.random_mode());
  sj["random_low"] = number(s.random_low());
  sj["store_momentum"] = s.store_momentum();
  sj["rotation_angle"] = number(s.rotation_angle());
  sj["reference_rotation"] = s.reference_rotation();
  json lo = json::array(), hi = json::array();
  for (double v : s.lower()) lo.push_back(number(v));
  for (double v : s.upper()) hi.push_back(number(v));
  sj["lower"] = lo;
  sj["upper"] = hi;
  sj["velocity_clamp"] = number(s.velocity_clamp());
  sj["clamp_velocity_to_bounds"] = s.clamp_velocity_to_bounds();
  sj["zero_velocity_at_bounds"] = s.zero_velocity_at_bounds();
  sj["seed"] = s.seed();
  sj["tolerance"] = number(s.tolerance());
  sj["stall_iterations"] = s.stall_iterations();
  sj["stall_delta"] = number(s.stall_delta());
  sj["rows"] = s.rows();
  sj["fitness_per_row"] = s.fitness_per_row();
  sj["asynchronous"] = s.asynchronous();
  json j;
  j["loss"] = to_string(o.loss());
  j["reduction"] = o.reduction() == Reduction::Mean ? "mean" : "sum";
  j["swarm"] = sj;
  j["eta"] = number(o.eta());
  j["reference_scale"] = o.reference_scale();
  j["start"] = to_string(o.start());
  j["start_noise"] = number(o.start_noise());
  j["start_span"] = number(o.start_span());
  j["span_scale"] = number(o.span_scale());
  j["bests"] = to_string(o.bests());
  j["warm_start"] = o.warm_start();
  j["grad_scale"] = to_string(o.grad_scale());
  j["warn_blind_after"] = o.warn_blind_after();
  j["delta"] = number(o.delta());
  j["ideal_limit"] = o.ideal_limit();
  j["compare_with_autograd"] = o.compare_with_autograd();
  return j.dump();
}

SwarmLossOptions options_from_json(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    bad_json(std::string("not JSON: ") + e.what());
  }
  if (!j.is_object()) bad_json("expected an object");
  SwarmLossOptions o;
  const std::set<std::string> top{"loss",        "reduction",  "swarm",      "eta",
                                  "reference_scale", "start",  "start_noise", "start_span",
                                  "span_scale",  "bests",      "warm_start", "grad_scale",
                                  "warn_blind_after", "delta", "ideal_limit", "compare_with_autograd"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!top.count(it.key())) bad_json("unknown setting '" + it.key() + "'");
  auto has = [&](const json& obj, const char* k) { return obj.contains(k); };
  try {
    if (has(j, "loss")) {
      const auto s = read_string(j["loss"], "loss");
      o.loss(s == "custom" ? LossKind::Custom : loss_from_string(s));
    }
    if (has(j, "reduction")) {
      const auto s = read_string(j["reduction"], "reduction");
      if (s != "mean" && s != "sum") bad_json("'reduction' must be mean or sum, got '" + s + "'");
      o.reduction(s == "mean" ? Reduction::Mean : Reduction::Sum);
    }
    if (has(j, "eta")) o.eta(read_number(j["eta"], "eta"));
    if (has(j, "reference_scale")) o.reference_scale(read_bool(j["reference_scale"], "reference_scale"));
    if (has(j, "start")) o.start(start_from_string(read_string(j["start"], "start")));
    if (has(j, "start_noise")) o.start_noise(read_number(j["start_noise"], "start_noise"));
    if (has(j, "start_span")) o.start_span(read_number(j["start_span"], "start_span"));
    if (has(j, "span_scale")) o.span_scale(read_number(j["span_scale"], "span_scale"));
    if (has(j, "bests")) o.bests(bests_from_string(read_string(j["bests"], "bests")));
    if (has(j, "warm_start")) o.warm_start(read_bool(j["warm_start"], "warm_start"));
    if (has(j, "grad_scale")) o.grad_scale(grad_scale_from_string(read_string(j["grad_scale"], "grad_scale")));
    if (has(j, "warn_blind_after")) o.warn_blind_after(read_int(j["warn_blind_after"], "warn_blind_after"));
    if (has(j, "delta")) o.delta(read_number(j["delta"], "delta"));
    if (has(j, "ideal_limit")) o.ideal_limit(read_bool(j["ideal_limit"], "ideal_limit"));
    if (has(j, "compare_with_autograd"))
      o.compare_with_autograd(read_bool(j["compare_with_autograd"], "compare_with_autograd"));
    if (has(j, "swarm")) {
      const json& sj = j["swarm"];
      if (!sj.is_object()) bad_json("'swarm' must be an object");
      const std::set<std::string> keys{"particles", "iterations", "variant", "c1", "c2", "beta", "inertia",
                                       "lambda", "random_mode", "random_low", "store_momentum", "rotation_angle",
                                       "reference_rotation", "lower", "upper", "velocity_clamp",
                                       "clamp_velocity_to_bounds", "zero_velocity_at_bounds", "seed",
                                       "tolerance", "stall_iterations", "stall_delta", "rows", "fitness_per_row",
                                       "asynchronous"};
      for (auto it = sj.begin(); it != sj.end(); ++it)
        if (!keys.count(it.key())) bad_json("unknown swarm setting '" + it.key() + "'");
      auto& s = o.swarm();
      if (has(sj, "particles")) s.particles(read_int(sj["particles"], "particles"));
      if (has(sj, "iterations")) s.iterations(read_int(sj["iterations"], "iterations"));
      if (has(sj, "variant")) s.variant(swarm::variant_from_string(read_string(sj["variant"], "variant")));
      if (has(sj, "c1")) s.c1(read_number(sj["c1"], "c1"));
      if (has(sj, "c2")) s.c2(read_number(sj["c2"], "c2"));
      if (has(sj, "beta")) s.beta(read_number(sj["beta"], "beta"));
      if (has(sj, "inertia")) s.inertia(read_number(sj["inertia"], "inertia"));
      if (has(sj, "lambda")) s.lambda(read_number(sj["lambda"], "lambda"));
      if (has(sj, "random_mode")) {
        const auto m = read_string(sj["random_mode"], "random_mode");
        if (m != "per-particle" && m != "per-coordinate")
          bad_json("'random_mode' must be per-particle or per-coordinate, got '" + m + "'");
        s.random_mode(m == "per-coordinate" ? swarm::RandomMode::PerCoordinate : swarm::RandomMode::PerParticle);
      }
      if (has(sj, "random_low")) s.random_low(read_number(sj["random_low"], "random_low"));
      if (has(sj, "store_momentum")) s.store_momentum(read_bool(sj["store_momentum"], "store_momentum"));
      if (has(sj, "rotation_angle")) s.rotation_angle(read_number(sj["rotation_angle"], "rotation_angle"));
      if (has(sj, "reference_rotation"))
        s.reference_rotation(read_bool(sj["reference_rotation"], "reference_rotation"));
      if (has(sj, "lower")) s.lower(read_numbers(sj["lower"], "lower"));
      if (has(sj, "upper")) s.upper(read_numbers(sj["upper"], "upper"));
      if (has(sj, "velocity_clamp")) s.velocity_clamp(read_number(sj["velocity_clamp"], "velocity_clamp"));
      if (has(sj, "clamp_velocity_to_bounds"))
        s.clamp_velocity_to_bounds(read_bool(sj["clamp_velocity_to_bounds"], "clamp_velocity_to_bounds"));
      if (has(sj, "zero_velocity_at_bounds"))
        s.zero_velocity_at_bounds(read_bool(sj["zero_velocity_at_bounds"], "zero_velocity_at_bounds"));
      if (has(sj, "seed")) {
        if (!sj["seed"].is_number_unsigned()) bad_json("'seed' must be an integer in [0, 2^64), got " + sj["seed"].dump());
        s.seed(sj["seed"].get<uint64_t>());
      }
      if (has(sj, "tolerance")) s.tolerance(read_number(sj["tolerance"], "tolerance"));
      if (has(sj, "stall_iterations")) s.stall_iterations(read_int(sj["stall_iterations"], "stall_iterations"));
      if (has(sj, "stall_delta")) s.stall_delta(read_number(sj["stall_delta"], "stall_delta"));
      if (has(sj, "rows")) s.rows(read_int(sj["rows"], "rows"));
      if (has(sj, "fitness_per_row")) s.fitness_per_row(read_bool(sj["fitness_per_row"], "fitness_per_row"));
      if (has(sj, "asynchronous")) s.asynchronous(read_bool(sj["asynchronous"], "asynchronous"));
    }
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
}  // namespace

void SwarmLoss::save(torch::serialize::OutputArchive& archive) const {
  const State& st = *state_;
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
    if (static_cast<int64_t>(x.size()) != P * D || static_cast<int64_t>(vel.size()) != P * D)
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
    if (prev_B < 1 || prev_C < 1 || static_cast<int64_t>(previous.size()) != prev_B * prev_C)
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
