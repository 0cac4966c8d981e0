// What AdaSwarm and the swarm loss save and load: exact continuation with a warm
// swarm and with the `previous` start, the swarm settings in the file, clear
// refusals of other optimizers' files and of other models' states (leaving the
// optimizer untouched), per-group option checks, REMPSO's random factors, and
// error messages without LibTorch backtraces (library and CLI).
#include <gtest/gtest.h>

#include <functional>
#include <sys/wait.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "adaswarm/optim/adaswarm.h"
#include "adaswarm/optim/torch_compat.h"
#include "adaswarm/swarm/gradient.h"
#include "adaswarm/util/errors.h"
#include "adaswarm/util/tensor_check.h"
#include "temp_dir.h"

using namespace adaswarm;
using adaswarm::optim::AdaSwarm;
using adaswarm::optim::AdaSwarmOptions;
using adaswarm::testing::TempDir;

namespace {
struct Net : torch::nn::Module {
  explicit Net(int64_t hidden = 8) {
    l1 = register_module("l1", torch::nn::Linear(2, hidden));
    l2 = register_module("l2", torch::nn::Linear(hidden, 2));
  }
  torch::Tensor forward(torch::Tensor x) { return l2(torch::tanh(l1(x))); }
  torch::nn::Linear l1{nullptr}, l2{nullptr};
};

struct Data {
  torch::Tensor x, y;
};
Data data() {
  torch::manual_seed(1);
  auto x = torch::randn({12, 2});
  return {x, torch::stack({x.sum(1), x.prod(1)}, 1)};
}

void train(Net& net, AdaSwarm& opt, const Data& d, int steps) {
  auto loss_fn = opt.loss();
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    loss_fn(net.forward(d.x), d.y).backward();
    opt.step();
  }
}

std::string save_optimizer(const AdaSwarm& opt) {
  std::ostringstream ss;
  torch::serialize::OutputArchive out;
  opt.save(out);
  out.save_to(ss);
  return ss.str();
}
void load_optimizer(AdaSwarm& opt, const std::string& bytes) {
  std::istringstream ss(bytes);
  torch::serialize::InputArchive in;
  in.load_from(ss);
  opt.load(in);
}

bool same_parameters(const Net& a, const Net& b) {
  auto pa = a.parameters(), pb = b.parameters();
  for (size_t i = 0; i < pa.size(); ++i)
    if (!torch::equal(pa[i], pb[i])) return false;
  return true;
}

/// Saves after `before` steps, then compares `after` more steps of the run with
/// `after` steps of a fresh model + optimizer loaded from the file.
bool resumes_exactly(const AdaSwarmOptions& options, int before, int after) {
  const Data d = data();
  torch::manual_seed(5);
  Net a;
  AdaSwarm oa(a.parameters(), options);
  train(a, oa, d, before);
  std::stringstream model;
  torch::save(std::make_shared<Net>(a), model);
  const std::string state = save_optimizer(oa);
  train(a, oa, d, after);

  torch::manual_seed(99);
  auto b = std::make_shared<Net>();
  torch::load(b, model);
  AdaSwarm ob(b->parameters(), options);
  load_optimizer(ob, state);
  train(*b, ob, d, after);
  return same_parameters(a, *b);
}
}  // namespace

TEST(OptimizerState, WarmSwarmResumesExactly) {
  // Without the warm swarm in the file, the loaded run starts cold and differs.
  const auto warm = AdaSwarmOptions(0.02).swarm(SwarmLossOptions::preset(Preset::Paper).warm_start(true));
  EXPECT_TRUE(resumes_exactly(warm, 4, 6));
  // A loss built without warm_start adopts it from the file, with its warm swarm.
  auto cold_settings = warm;
  cold_settings.swarm(SwarmLossOptions(warm.swarm()).warm_start(false));
  const Data d = data();
  torch::manual_seed(5);
  Net a;
  AdaSwarm oa(a.parameters(), warm);
  train(a, oa, d, 4);
  const std::string state = save_optimizer(oa);
  Net b;
  AdaSwarm ob(b.parameters(), cold_settings);
  load_optimizer(ob, state);
  EXPECT_TRUE(ob.loss().options().warm_start());
}

TEST(OptimizerState, ColdStartAfterLoadWouldDiffer) {
  // A control for the test above: dropping the warm swarm (what the file held
  // before) changes the continuation.
  const auto warm = AdaSwarmOptions(0.02).swarm(SwarmLossOptions::preset(Preset::Paper).warm_start(true));
  const Data d = data();
  torch::manual_seed(5);
  Net a;
  AdaSwarm oa(a.parameters(), warm);
  train(a, oa, d, 4);
  std::stringstream model;
  torch::save(std::make_shared<Net>(a), model);
  const std::string state = save_optimizer(oa);
  train(a, oa, d, 6);
  // Keep the generator, drop the warm swarm: what the file held before.
  torch::manual_seed(99);
  auto b = std::make_shared<Net>();
  torch::load(b, model);
  AdaSwarm ob(b->parameters(), warm);
  load_optimizer(ob, state);
  {
    torch::serialize::OutputArchive out;
    ob.loss().save(out);
    std::stringstream ss;
    out.save_to(ss);
    torch::serialize::InputArchive in;
    in.load_from(ss);
    torch::Tensor rng, x;
    ASSERT_TRUE(in.try_read("swarm_loss/warm_x", x));  // the warm swarm is in the file
    in.read("swarm_loss/rng", rng);
    torch::serialize::OutputArchive only;
    only.write("swarm_loss/rng", rng);
    std::stringstream s2;
    only.save_to(s2);
    torch::serialize::InputArchive in2;
    in2.load_from(s2);
    ob.loss().load(in2);
  }
  train(*b, ob, d, 6);
  EXPECT_FALSE(same_parameters(a, *b));
}

TEST(OptimizerState, PreviousStartResumesExactly) {
  const auto prev = AdaSwarmOptions(0.02).swarm(
      SwarmLossOptions::preset(Preset::Paper).start(SwarmStart::Previous).start_span(0.5));
  EXPECT_TRUE(resumes_exactly(prev, 3, 5));
}

TEST(OptimizerState, SwarmSettingsAreInTheFileAndRestored) {
  auto saved_swarm = SwarmLossOptions::preset(Preset::Paper).loss(LossKind::MAE).eta(0.3).warm_start(true);
  saved_swarm.swarm().particles(7).iterations(3).c1(1.1).seed(42).tolerance(-std::numeric_limits<double>::infinity());
  const auto saved = AdaSwarmOptions(0.02).swarm(saved_swarm);
  EXPECT_TRUE(resumes_exactly(saved, 2, 3));

  const Data d = data();
  Net a;
  AdaSwarm oa(a.parameters(), saved);
  train(a, oa, d, 2);
  const std::string state = save_optimizer(oa);
  Net b;
  AdaSwarm ob(b.parameters(), AdaSwarmOptions(0.5));  // other rate, other swarm settings
  load_optimizer(ob, state);
  EXPECT_EQ(options_to_json(ob.loss().options()), options_to_json(saved_swarm));
  const auto& g = static_cast<const AdaSwarmOptions&>(ob.param_groups()[0].options());
  EXPECT_EQ(options_to_json(g.swarm()), options_to_json(saved_swarm));
  EXPECT_DOUBLE_EQ(g.lr(), 0.02);  // group options come back as saved (PyTorch's load_state_dict does the same)
  EXPECT_TRUE(g == static_cast<const AdaSwarmOptions&>(oa.param_groups()[0].options()));
}

TEST(OptimizerState, SettingsJsonRoundTripsAndRejectsBadText) {
  for (Preset p : {Preset::Paper, Preset::Reference, Preset::Search}) {
    auto o = SwarmLossOptions::preset(p);
    o.swarm().lower({-2.0}).upper({3.0}).random_mode(swarm::RandomMode::PerCoordinate).seed(~0ULL);
    if (p == Preset::Search) o.swarm().variant(swarm::Variant::PSO).random_lanes(8);  // the newest setting too
    const std::string text = options_to_json(o);
    EXPECT_EQ(options_to_json(options_from_json(text)), text) << to_string(p);
  }
  const auto o = options_from_json(options_to_json(SwarmLossOptions()));
  EXPECT_TRUE(std::isinf(o.swarm().tolerance()) && o.swarm().tolerance() < 0);
  auto message = [](const std::string& text) {
    try {
      options_from_json(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_NE(message("[1, 2]").find("expected an object"), std::string::npos);
  EXPECT_NE(message("{\"etaa\": 1}").find("unknown setting 'etaa'"), std::string::npos);
  EXPECT_NE(message("{\"eta\": \"x\"}").find("'eta' must be a number"), std::string::npos);
  EXPECT_NE(message("{\"eta\": -1}").find("eta must be > 0"), std::string::npos);
  EXPECT_NE(message("{\"swarm\": {\"particles\": 0}}").find("particles"), std::string::npos);
  EXPECT_NE(message("{\"swarm\": {\"seed\": -1}}").find("'seed'"), std::string::npos);
  EXPECT_NE(message("{\"swarm\": {\"random_lanes\": 3}}").find("random_lanes"), std::string::npos);
  EXPECT_NE(message("{\"swarm\": {\"foo\": 1}}").find("unknown swarm setting 'foo'"), std::string::npos);
  EXPECT_NE(message("{\"swarm\": [1]}").find("'swarm' must be an object"), std::string::npos);
  EXPECT_NE(message("{\"swarm\": {\"random_mode\": \"both\"}}").find("per-particle or per-coordinate"),
            std::string::npos);
  EXPECT_NE(message("{\"loss\": \"nope\"}").find("unknown loss 'nope'"), std::string::npos);
  EXPECT_NE(message("{\"swarm\": {\"particles\": 2").find("not JSON"), std::string::npos);
}

namespace {
std::string load_error(AdaSwarm& opt, const std::string& bytes) {
  try {
    load_optimizer(opt, bytes);
  } catch (const std::exception& e) {
    return util::message_of(e);
  }
  return "(loaded)";
}
}  // namespace

TEST(OptimizerState, OtherOptimizersFilesAreNamedAndLeaveTheOptimizerUntouched) {
  Net net;
  const Data d = data();
  auto file_of = [&](torch::optim::Optimizer& o) {
    o.zero_grad();
    torch::mse_loss(net.forward(d.x), d.y).backward();
    o.step();
    std::ostringstream ss;
    torch::serialize::OutputArchive out;
    o.save(out);
    out.save_to(ss);
    return ss.str();
  };
  torch::optim::Adam adam(net.parameters(), torch::optim::AdamOptions(0.1));
  torch::optim::AdamW adamw(net.parameters(), torch::optim::AdamWOptions(0.1));
  torch::optim::SGD sgd(net.parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  torch::optim::RMSprop rms(net.parameters(), torch::optim::RMSpropOptions(0.1));
  torch::optim::Adagrad adagrad(net.parameters(), torch::optim::AdagradOptions(0.1));
  const std::string adam_file = file_of(adam), adamw_file = file_of(adamw), sgd_file = file_of(sgd),
                    rms_file = file_of(rms), adagrad_file = file_of(adagrad);
  std::ostringstream model_ss;
  torch::save(std::make_shared<Net>(net), model_ss);

  AdaSwarm opt(net.parameters(), AdaSwarmOptions(0.03));
  train(net, opt, d, 2);
  const std::string before = save_optimizer(opt);
  for (const auto& [bytes, name] : std::vector<std::pair<std::string, std::string>>{
           {adam_file, "Adam"}, {adamw_file, "Adam"}, {sgd_file, "SGD"}, {rms_file, "RMSprop"},
           {adagrad_file, "Adagrad"}, {model_ss.str(), "holds no optimizer"}}) {
    const std::string m = load_error(opt, bytes);
    EXPECT_NE(m.find("not an AdaSwarm optimizer state"), std::string::npos) << m;
    EXPECT_NE(m.find(name), std::string::npos) << m;
    EXPECT_EQ(m.find("INTERNAL ASSERT"), std::string::npos) << m;
  }
  EXPECT_EQ(save_optimizer(opt), before);  // nothing changed
}

TEST(OptimizerState, AnotherModelsStateIsRefusedAndChangesNothing) {
  const Data d = data();
  Net small(8), big(16);
  AdaSwarm os(small.parameters(), AdaSwarmOptions(0.02)), ob(big.parameters(), AdaSwarmOptions(0.02));
  train(small, os, d, 2);
  train(big, ob, d, 2);
  const std::string before = save_optimizer(ob);
  const std::string m = load_error(ob, save_optimizer(os));
  EXPECT_NE(m.find("another shape"), std::string::npos) << m;
  EXPECT_EQ(save_optimizer(ob), before);
  // Fewer parameters in a group, and another number of groups.
  AdaSwarm one({big.l1->weight}, AdaSwarmOptions(0.02));
  EXPECT_NE(load_error(one, before).find("parameters in the file"), std::string::npos);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{big.l1->weight, big.l1->bias});
  groups.emplace_back(std::vector<torch::Tensor>{big.l2->weight, big.l2->bias});
  AdaSwarm two(groups, AdaSwarmOptions(0.02));
  EXPECT_NE(load_error(two, before).find("parameter group(s)"), std::string::npos);
}

TEST(OptimizerState, CustomAndBuiltInLossesDoNotLoadIntoEachOther) {
  const Data d = data();
  CustomLossFn sq = [](const torch::Tensor& p, const torch::Tensor& t) { return (p - t.unsqueeze(0)).pow(2); };
  Net a;
  AdaSwarm custom(a.parameters(), AdaSwarmOptions(0.02), sq);
  train(a, custom, d, 2);
  Net b;
  AdaSwarm builtin(b.parameters(), AdaSwarmOptions(0.02));
  train(b, builtin, d, 2);
  const std::string custom_file = save_optimizer(custom), builtin_file = save_optimizer(builtin);
  EXPECT_NE(load_error(builtin, custom_file).find("custom loss callable"), std::string::npos);
  EXPECT_NE(load_error(custom, builtin_file).find("built-in loss 'mse'"), std::string::npos);
  EXPECT_EQ(save_optimizer(builtin), builtin_file);
  EXPECT_EQ(save_optimizer(custom), custom_file);
}

TEST(OptimizerState, EveryGroupsOptionsAreChecked) {
  auto w = torch::zeros({2}, torch::requires_grad());
  auto v = torch::zeros({2}, torch::requires_grad());
  auto message = [](auto&& make) {
    try {
      make();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  using Group = torch::optim::OptimizerParamGroup;
  auto with = [&](std::unique_ptr<torch::optim::OptimizerOptions> o) {
    return std::vector<Group>{Group({w}), Group({v}, std::move(o))};
  };
  EXPECT_NE(message([&] { AdaSwarm(with(std::make_unique<AdaSwarmOptions>(-0.1)), AdaSwarmOptions(0.1)); })
                .find("param group 1"),
            std::string::npos);
  EXPECT_NE(message([&] {
              AdaSwarm(with(std::make_unique<AdaSwarmOptions>(std::numeric_limits<double>::quiet_NaN())),
                       AdaSwarmOptions(0.1));
            }).find("lr must be finite"),
            std::string::npos);
  EXPECT_NE(message([&] {
              AdaSwarm(with(std::make_unique<torch::optim::AdamOptions>(0.1)), AdaSwarmOptions(0.1));
            }).find("another optimizer's options"),
            std::string::npos);
  EXPECT_NE(message([&] { AdaSwarm({w}, AdaSwarmOptions(std::numeric_limits<double>::infinity())); })
                .find("lr must be finite"),
            std::string::npos);
  EXPECT_NE(message([&] { AdaSwarm({w}, AdaSwarmOptions(0.1).weight_decay(INFINITY)); }).find("weight_decay"),
            std::string::npos);
  // A rate set between steps (by hand or a scheduler) is checked at the step.
  AdaSwarm opt({w}, AdaSwarmOptions(0.1));
  opt.param_groups()[0].options().set_lr(std::numeric_limits<double>::infinity());
  w.mutable_grad() = torch::ones({2});
  EXPECT_NE(message([&] { opt.step(); }).find("param group 0"), std::string::npos);
  EXPECT_TRUE(torch::equal(w, torch::zeros({2})));  // nothing moved
}

TEST(OptimizerState, RempsoNeedsPerCoordinateFactors) {
  swarm::SwarmOptions o;
  o.variant(swarm::Variant::REMPSO);
  EXPECT_THROW(o.validate(4), std::invalid_argument);
  try {
    o.validate(4);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("per-coordinate"), std::string::npos);
  }
  o.random_mode(swarm::RandomMode::PerCoordinate);
  EXPECT_NO_THROW(o.validate(4));
  swarm::GradientOptions g;
  g.variant(swarm::Variant::REMPSO);
  EXPECT_THROW(g.validate(3), std::invalid_argument);
  // The loss refuses it too (its swarm settings are validated up front).
  auto lo = SwarmLossOptions::preset(Preset::Paper);
  lo.swarm().variant(swarm::Variant::REMPSO);
  EXPECT_THROW(SwarmLoss{lo}, std::invalid_argument);
  lo.swarm().random_mode(swarm::RandomMode::PerCoordinate);
  EXPECT_NO_THROW(SwarmLoss{lo});
}

TEST(OptimizerState, MessagesCarryNoBacktrace) {
  try {
    TORCH_CHECK(false, "the sentence");
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("Exception raised from"), std::string::npos);  // LibTorch adds one
    EXPECT_EQ(util::message_of(e), "the sentence");
    const std::runtime_error wrapped(std::string("file.pt: ") + e.what());
    EXPECT_EQ(util::message_of(wrapped), "file.pt: the sentence");
  }
}

#ifdef ADASWARM_CLI_PATH
TEST(OptimizerState, TruncatedCheckpointOnResumeIsNamedWithoutBacktrace) {
  TempDir d;
  const std::string base = std::string(ADASWARM_CLI_PATH) + " train --model mlp --dataset mnist --data-dir " +
                           ADASWARM_SHARED_DATA + "/mnist --train-limit 50 --test-limit 20 --progress off --checkpoint " +
                           (d / "ck");
  ASSERT_EQ(std::system((base + " --epochs 1 >/dev/null 2>&1").c_str()), 0);
  const std::string ck = d / "ck/checkpoint.pt";
  const auto size = std::filesystem::file_size(ck);
  std::filesystem::resize_file(ck, size / 2);
  const int rc = std::system((base + " --epochs 2 --resume >" + (d / "out") + " 2>" + (d / "err")).c_str());
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
  std::ifstream in(d / "err");
  const std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Refused before LibTorch parses it (util::verify_zip_bytes), naming the file.
  EXPECT_NE(err.find("adaswarm: error: " + ck + ": corrupt or not a zip archive"), std::string::npos) << err;
  EXPECT_NE(err.find("truncated"), std::string::npos) << err;
  EXPECT_EQ(err.find("frame #"), std::string::npos) << err;
  EXPECT_EQ(err.find("Exception raised from"), std::string::npos) << err;
  EXPECT_EQ(std::filesystem::file_size(ck), size / 2);  // left as it was
}
#endif

namespace {
// What `save` wrote, read back as a file would be (the records to tamper with).
void reread(const std::function<void(torch::serialize::OutputArchive&)>& save, torch::serialize::InputArchive& in) {
  torch::serialize::OutputArchive out;
  save(out);
  std::stringstream s;
  out.save_to(s);
  in.load_from(s);
}
}  // namespace

// A tensor whose storage is shorter than the extent it describes is refused
// before any read (util::storage_covers). Built in memory here; a *file* whose
// record is shorter than its pickle declares gets a storage of the declared
// size, which this check cannot see: util::verify_zip_file refuses such files
// (HardeningCheckpoint.TensorRecordShorterThanItsPickleDeclaresIsRefused).
TEST(OptimizerState, ShortTensorDataInAFileIsRefused) {
  auto shortened = [](at::Tensor t, size_t bytes) {
    t = t.clone();
    t.storage().unsafeGetStorageImpl()->set_nbytes(bytes);
    return t;
  };
  EXPECT_TRUE(util::storage_covers(torch::zeros({4}, torch::kLong)));
  EXPECT_FALSE(util::storage_covers(shortened(torch::zeros({4}, torch::kLong), 8)));
  EXPECT_TRUE(util::storage_covers(torch::Tensor()));

  SwarmLoss loss(SwarmLossOptions::preset(Preset::Paper));
  torch::serialize::InputArchive gin;
  reread([&](auto& a) { loss.save(a); }, gin);
  torch::Tensor rng;
  gin.read("swarm_loss/rng", rng);
  torch::serialize::InputArchive in;
  reread([&](auto& a) { a.write("swarm_loss/rng", shortened(rng, 8)); }, in);  // 4 words claimed, 1 stored
  try {
    loss.load(in);
    ADD_FAILURE() << "a short record was loaded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("shorter than the tensor"), std::string::npos) << e.what();
  }
}

// fuzz_checkpoint_records (2026-12-01): the last best's shape B x C was multiplied
// without an overflow check (UBSan: signed overflow); a shape whose product wraps
// to the stored size, (2^62 + 1) x 4 = 4 mod 2^64, was even accepted.
TEST(OptimizerState, SavedShapesWhoseProductOverflowsAreRefused) {
  SwarmLoss loss(SwarmLossOptions::preset(Preset::Paper));
  torch::serialize::InputArchive gin;
  reread([&](auto& a) { loss.save(a); }, gin);
  torch::Tensor rng;
  gin.read("swarm_loss/rng", rng);
  c10::IValue options;
  ASSERT_TRUE(gin.try_read("swarm_loss/options", options));
  auto load_with = [&](std::vector<int64_t> shape, int64_t stored) {
    torch::serialize::InputArchive in;
    reread(
        [&](auto& bad) {
          bad.write("swarm_loss/rng", rng);
          bad.write("swarm_loss/options", options);
          bad.write("swarm_loss/previous_shape", torch::tensor(shape, torch::kLong));
          bad.write("swarm_loss/previous_best", torch::zeros({stored}));
        },
        in);
    SwarmLoss target(SwarmLossOptions::preset(Preset::Paper));
    try {
      target.load(in);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("(loaded)");
  };
  EXPECT_EQ(load_with({2, 2}, 4), "(loaded)");  // the control: a consistent shape loads
  const int64_t wraps = (int64_t{1} << 62) + 1;
  for (const auto& shape : std::vector<std::vector<int64_t>>{{wraps, 4}, {4, wraps}, {INT64_MAX, INT64_MAX}, {-2, -2}}) {
    const std::string m = load_with(shape, 4);
    EXPECT_NE(m.find("the last best has the wrong size"), std::string::npos) << shape[0] << " x " << shape[1] << ": " << m;
  }
}

// ---- LibTorch 1.x / 2.x compatibility (include/adaswarm/optim/torch_compat.h) ----

TEST(TorchCompat, StateKeyIsTheOneLibTorchsOwnOptimizersUse) {
  auto w = torch::randn({3}, torch::requires_grad());
  torch::optim::Adam adam({w}, torch::optim::AdamOptions(0.1));
  w.mutable_grad() = torch::ones({3});
  adam.step();
  ASSERT_EQ(adam.state().size(), 1u);
  EXPECT_NE(adam.state().find(optim::state_key(w)), adam.state().end());
  auto other = torch::randn({3});
  EXPECT_EQ(adam.state().find(optim::state_key(other)), adam.state().end());
}

// LibTorch 2.x's zero_grad() sets gradients to none: such a parameter takes no
// step and gets no state, while the others follow Adam.
TEST(TorchCompat, ParametersWithoutGradientTakeNoStep) {
  torch::manual_seed(2);
  auto a = torch::randn({4}, torch::requires_grad()), b = torch::randn({2, 2}, torch::requires_grad());
  auto a2 = a.detach().clone().requires_grad_(true);
  const auto b0 = b.detach().clone();
  AdaSwarm ours({a, b}, AdaSwarmOptions(0.05));
  torch::optim::Adam adam({a2}, torch::optim::AdamOptions(0.05));
  for (int i = 0; i < 3; ++i) {
    const auto g = torch::randn({4});
    a.mutable_grad() = g.clone();
    a2.mutable_grad() = g.clone();
    b.mutable_grad() = at::Tensor();  // what zero_grad(set_to_none=true) leaves
    ours.step();
    adam.step();
  }
  EXPECT_TRUE(torch::equal(b, b0));
  EXPECT_TRUE(torch::allclose(a, a2, 1e-6, 1e-7));
  EXPECT_EQ(ours.state().size(), 1u);
  EXPECT_EQ(ours.state().find(optim::state_key(b)), ours.state().end());
}

// An optimizer file keys its parameter states by address strings: hexadecimal
// from LibTorch 1.x ("0x55d0..."), decimal from 2.x. A file in the other form
// (written here by hand, as the other version writes it) loads and continues
// exactly like the file this version wrote.
TEST(TorchCompat, FilesOfEitherKeyFormLoad) {
  const Data d = data();
  torch::manual_seed(5);
  Net a;
  AdaSwarm oa(a.parameters(), AdaSwarmOptions(0.02));
  train(a, oa, d, 3);
  std::stringstream model;
  torch::save(std::make_shared<Net>(a), model);
  const std::string native = save_optimizer(oa);

  // Rewrite: every key in the form the other LibTorch writes.
  auto other_form = [](const std::string& key) {
    if (key.rfind("0x", 0) == 0) return std::to_string(std::stoull(key, nullptr, 16));
    std::ostringstream os;
    os << reinterpret_cast<const void*>(static_cast<uintptr_t>(std::stoull(key)));
    return os.str();
  };
  std::string rewritten;
  {
    std::istringstream in_bytes(native);
    torch::serialize::InputArchive in, state_in, groups_in;
    in.load_from(in_bytes);
    torch::serialize::OutputArchive out, state_out, groups_out;
    out.write("pytorch_version", c10::IValue("1.5.0"));
    in.read("state", state_in);
    for (const auto& key : state_in.keys()) {
      torch::serialize::InputArchive one;
      state_in.read(key, one);
      optim::AdaSwarmParamState ps;
      ps.serialize(one);
      torch::serialize::OutputArchive one_out;
      ps.serialize(one_out);
      state_out.write(other_form(key), one_out);
    }
    out.write("state", state_out);
    in.read("param_groups", groups_in);
    std::vector<std::pair<std::vector<std::string>, std::unique_ptr<torch::optim::OptimizerOptions>>> groups;
    torch::optim::detail::serialize<AdaSwarmOptions>(groups_in, groups);
    groups_out.write("param_groups/size", torch::tensor(static_cast<int64_t>(groups.size())));
    for (size_t g = 0; g < groups.size(); ++g) {
      torch::serialize::OutputArchive group, options;
      group.write("params/size", torch::tensor(static_cast<int64_t>(groups[g].first.size())));
      for (size_t i = 0; i < groups[g].first.size(); ++i)
        group.write("params/" + std::to_string(i), c10::IValue(other_form(groups[g].first[i])));
      static_cast<const AdaSwarmOptions&>(*groups[g].second).serialize(options);
      group.write("options", options);
      groups_out.write("param_groups/" + std::to_string(g), group);
    }
    out.write("param_groups", groups_out);
    oa.loss().save(out);
    std::ostringstream out_bytes;
    out.save_to(out_bytes);
    rewritten = out_bytes.str();
  }
  auto first_key = [](const std::string& bytes) {
    std::istringstream ss(bytes);
    torch::serialize::InputArchive in, st;
    in.load_from(ss);
    in.read("state", st);
    const auto keys = st.keys();
    return keys.empty() ? std::string() : keys.front();
  };
  const bool native_hex = first_key(native).rfind("0x", 0) == 0;
  ASSERT_NE(native_hex, first_key(rewritten).rfind("0x", 0) == 0) << first_key(native) << " " << first_key(rewritten);
  EXPECT_EQ(native_hex, (std::is_same_v<optim::StateKey, std::string>)) << "LibTorch " << TORCH_VERSION;

  auto continue_from = [&](const std::string& bytes) {
    model.seekg(0);
    auto b = std::make_shared<Net>();
    torch::load(b, model);
    AdaSwarm ob(b->parameters(), AdaSwarmOptions(0.02));
    load_optimizer(ob, bytes);
    EXPECT_EQ(ob.state().size(), b->parameters().size());
    train(*b, ob, d, 4);
    return b;
  };
  auto from_native = continue_from(native), from_other = continue_from(rewritten);
  train(a, oa, d, 4);
  EXPECT_TRUE(same_parameters(a, *from_native));
  EXPECT_TRUE(same_parameters(a, *from_other));
}
