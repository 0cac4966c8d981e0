// Use-case summaries: mean ± std per (task, arm), the paired verdict rule, and
// the text / CSV / JSON tables (docs/usecases.md).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adaswarm/experiments/usecases.h"
#include "adaswarm/util/atomic_file.h"
#include "adaswarm/util/progress.h"

namespace adaswarm::experiments::usecases {

namespace {
Stat stat_of(const std::vector<double>& v) {
  Stat s;
  s.n = static_cast<int64_t>(v.size());
  if (v.empty()) return s;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(ss / static_cast<double>(v.size() - 1));
  }
  return s;
}
constexpr int64_t kMinSeeds = 5;
const Arm kOpponents[] = {Arm::Adam, Arm::Surrogate, Arm::SPSA, Arm::Constant};
}  // namespace

Summary summarize(const std::vector<RunResult>& runs, const UsecasesConfig& config) {
  Summary out;
  // (task, arm) -> seed -> run
  std::map<std::pair<std::string, std::string>, std::map<uint64_t, const RunResult*>> by;
  for (const auto& r : runs) by[{r.task, r.arm}][r.seed] = &r;
  for (const auto& task : config.tasks) {
    for (Arm a : config.arms) {
      if (!task.applies(a)) continue;
      const auto it = by.find({task.key, to_string(a)});
      if (it == by.end()) continue;
      std::vector<double> e, u, s, eps, blind, moved;
      for (const auto& [seed, r] : it->second) {
        if (!std::isnan(r->blind_share)) blind.push_back(r->blind_share);
        if (!std::isnan(r->moved_share)) moved.push_back(r->moved_share);
        e.push_back(r->error);
        u.push_back(r->untrained_error);
        s.push_back(r->seconds);
        eps.push_back(r->steps > 0 ? static_cast<double>(r->evaluations) / static_cast<double>(r->steps) : 0.0);
      }
      out.rows.push_back({task.key, to_string(a), stat_of(e), stat_of(u), stat_of(s), stat_of(eps), stat_of(blind), stat_of(moved)});
    }
    for (Arm sw : {Arm::AdaSwarm, Arm::AdaSwarmSearch, Arm::AdaSwarmTargets}) {
      if (!task.applies(sw)) continue;
      const auto mine = by.find({task.key, to_string(sw)});
      if (mine == by.end()) continue;
      Verdict v;
      v.task = task.key;
      v.swarm_arm = to_string(sw);
      bool all_beaten = true, enough = true, any = false;
      std::string beaten, lost;
      for (Arm op : kOpponents) {
        if (!task.applies(op)) continue;
        const auto theirs = by.find({task.key, to_string(op)});
        if (theirs == by.end()) continue;
        any = true;
        Verdict::Versus vs;
        vs.opponent = to_string(op);
        double sm = 0, om = 0;
        for (const auto& [seed, r] : mine->second) {
          const auto o = theirs->second.find(seed);
          if (o == theirs->second.end()) continue;
          ++vs.paired;
          if (r->error < o->second->error) ++vs.better;
          sm += r->error;
          om += o->second->error;
        }
        vs.ratio = sm > 0 ? om / sm : (om > 0 ? INFINITY : 1.0);
        const bool beats = vs.paired > 0 && vs.better == vs.paired && om > sm;
        if (vs.paired < kMinSeeds) enough = false;
        all_beaten = all_beaten && beats;
        (beats ? beaten : lost) += fmt::format("{}{} ({}/{} seeds, ratio {:.3g}x)", (beats ? beaten : lost).empty() ? "" : ", ",
                                             vs.opponent, vs.better, vs.paired, vs.ratio);
        v.versus.push_back(vs);
      }
      v.win = any && all_beaten && enough;
      if (v.win) {
        v.text = "win: beats " + beaten;
      } else {
        v.text = "not shown";
        if (!any) v.text += ": no opponent arms were run";
        else if (!enough) v.text += fmt::format(": fewer than {} paired seeds", kMinSeeds);
        if (!lost.empty()) v.text += "; does not beat " + lost;
        if (!beaten.empty()) v.text += "; beats " + beaten;
      }
      out.verdicts.push_back(v);
    }
  }
  return out;
}

std::string format_text(const Summary& s, const UsecasesConfig& config) {
  std::string out = fmt::format(
      "Hard-loss use cases: mean ± std over {} seed(s) (paired), epochs x{}; error on the test rows (lower is "
      "better)\n",
      config.seeds, config.epoch_scale);
  for (const auto& task : config.tasks) {
    out += fmt::format("\n{} — {}\n  error: {}{}\n", task.key, task.title, task.error_name,
                       task.surrogate_name.empty() ? "" : "; surrogate: " + task.surrogate_name);
    out += fmt::format("  {:<18}{:>22}{:>22}{:>12}{:>10}{:>8}{:>8}\n", "arm", "error", "untrained", "evals/step",
                       "s/run", "moved", "blind");
    for (const auto& r : s.rows) {
      if (r.task != task.key) continue;
      out += fmt::format("  {:<18}{:>22}{:>22}{:>12.0f}{:>10.2f}{:>8}{:>8}\n", r.arm,
                         fmt::format("{:.4g} ± {:.2g}", r.error.mean, r.error.std),
                         fmt::format("{:.4g} ± {:.2g}", r.untrained.mean, r.untrained.std), r.evals_per_step.mean,
                         r.seconds.mean, r.moved.n > 0 ? fmt::format("{:.0f}%", 100 * r.moved.mean) : "—",
                         r.blind.n > 0 ? fmt::format("{:.0f}%", 100 * r.blind.mean) : "—");
    }
    for (const auto& v : s.verdicts)
      if (v.task == task.key) out += fmt::format("  verdict {}: {}\n", v.swarm_arm, v.text);
  }
  return out;
}

std::string format_csv(const Summary& s) {
  std::string out =
      "task,arm,seeds,error_mean,error_std,untrained_mean,untrained_std,evals_per_step,seconds_mean,moved_share,blind_share\n";
  for (const auto& r : s.rows)
    out += fmt::format("{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.4f},{},{}\n", r.task, r.arm, r.error.n,
                       r.error.mean, r.error.std, r.untrained.mean, r.untrained.std, r.evals_per_step.mean,
                       r.seconds.mean, r.moved.n > 0 ? fmt::format("{:.4f}", r.moved.mean) : "",
                       r.blind.n > 0 ? fmt::format("{:.4f}", r.blind.mean) : "");
  return out;
}

std::string format_json(const Summary& s, const UsecasesConfig& config) {
  nlohmann::json j;
  j["settings"] = {{"fingerprint", fingerprint(config)}, {"seeds", config.seeds}, {"first_seed", config.first_seed},
                   {"epoch_scale", config.epoch_scale}};
  auto stat = [](const Stat& st) { return nlohmann::json{{"n", st.n}, {"mean", st.mean}, {"std", st.std}}; };
  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& t : config.tasks)
    tasks.push_back({{"key", t.key}, {"title", t.title}, {"definition", t.definition}, {"error", t.error_name},
                     {"surrogate", t.surrogate_name}});
  j["tasks"] = tasks;
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : s.rows)
    rows.push_back({{"task", r.task}, {"arm", r.arm}, {"error", stat(r.error)}, {"untrained", stat(r.untrained)},
                    {"seconds", stat(r.seconds)}, {"evals_per_step", r.evals_per_step.mean},
                    {"moved_share", r.moved.n > 0 ? nlohmann::json(r.moved.mean) : nlohmann::json()},
                    {"blind_share", r.blind.n > 0 ? nlohmann::json(r.blind.mean) : nlohmann::json()}});
  j["rows"] = rows;
  nlohmann::json verdicts = nlohmann::json::array();
  for (const auto& v : s.verdicts) {
    nlohmann::json vs = nlohmann::json::array();
    for (const auto& x : v.versus)
      vs.push_back({{"opponent", x.opponent}, {"better", x.better}, {"paired", x.paired}, {"ratio", x.ratio}});
    verdicts.push_back({{"task", v.task}, {"swarm_arm", v.swarm_arm}, {"win", v.win}, {"text", v.text}, {"versus", vs}});
  }
  j["verdicts"] = verdicts;
  return j.dump(2) + "\n";
}

Report run_and_report(const UsecasesConfig& config) {
  namespace fs = std::filesystem;
  if (!config.out_dir.empty() && !config.resume && !config.overwrite) {
    for (const char* name : {"runs.jsonl", "usecases.txt", "usecases.csv", "usecases.json"}) {
      const auto p = fs::path(config.out_dir) / name;
      std::error_code ec;
      if (fs::exists(p, ec) && !(name == std::string("runs.jsonl") && fs::file_size(p, ec) == 0))
        throw std::runtime_error("'" + p.string() +
                                 "' exists: pass --resume to continue that run, --overwrite to replace it, or another --out");
    }
  }
  Report rep;
  rep.outcome = run_usecases(config);
  if (rep.outcome.remaining > 0) return rep;
  rep.summary = summarize(rep.outcome.runs, config);
  rep.text = format_text(rep.summary, config);
  rep.text += fmt::format("\n{} run(s) trained, {} resumed, wall time {} ({:.1f} s), {} job(s)\n", rep.outcome.executed,
                          rep.outcome.resumed, util::Progress::format_duration(rep.outcome.seconds),
                          rep.outcome.seconds, config.jobs);
  if (!config.out_dir.empty()) {
    const auto dir = fs::path(config.out_dir);
    util::write_file_atomic((dir / "usecases.txt").string(), rep.text);
    util::write_file_atomic((dir / "usecases.csv").string(), format_csv(rep.summary));
    util::write_file_atomic((dir / "usecases.json").string(), format_json(rep.summary, config));
  }
  return rep;
}

}  // namespace adaswarm::experiments::usecases
