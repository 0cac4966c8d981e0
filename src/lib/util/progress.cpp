#include "adaswarm/util/progress.h"

#include <unistd.h>

#include <cmath>
#include <ostream>

#include <fmt/format.h>

namespace adaswarm::util {

Progress::Progress(int64_t total, std::string label, bool enabled, std::FILE* out, double log_interval_s)
    : total_(total < 0 ? 0 : total),
      label_(std::move(label)),
      enabled_(enabled && out != nullptr),
      tty_(out != nullptr && ::isatty(::fileno(out)) != 0),
      out_(out),
      log_interval_s_(log_interval_s),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - std::chrono::hours(1)) {}

Progress::Progress(int64_t total, std::string label, std::ostream* out, bool terminal, double log_interval_s)
    : Progress(total, std::move(label), false, nullptr, log_interval_s) {
  enabled_ = out != nullptr;
  tty_ = terminal;
  os_ = out;
}

void Progress::resume_from(int64_t done) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = start_done_ = std::min(std::max<int64_t>(done, 0), total_);
}

void Progress::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  finished_ = true;
  if (enabled_ && tty_ && drawn_width_ > 0) emit("\r" + std::string(drawn_width_, ' ') + "\r");
  drawn_width_ = 0;
}

void Progress::emit(const std::string& text) {
  if (os_) {
    *os_ << text << std::flush;
  } else {
    std::fputs(text.c_str(), out_);
    std::fflush(out_);
  }
}

Progress::~Progress() {
  try {
    finish();
  } catch (...) {
  }
}

int64_t Progress::done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return done_;
}

std::string Progress::format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--";
  const auto total = static_cast<int64_t>(std::llround(s));
  const int64_t h = total / 3600, m = (total % 3600) / 60, sec = total % 60;
  if (h > 0) return fmt::format("{}h{:02d}m", h, m);
  if (m > 0) return fmt::format("{}m{:02d}s", m, sec);
  return fmt::format("{}s", sec);
}

void Progress::set_total_work(double work) {
  std::lock_guard<std::mutex> lock(mutex_);
  total_work_ = work > 0 ? work : 0;
}

void Progress::advance(int64_t n, const std::string& note) { advance(n, note, 0.0); }

void Progress::advance(int64_t n, const std::string& note, double work) {
  std::lock_guard<std::mutex> lock(mutex_);
  work_done_ += work;
  done_ += n;
  if (done_ > total_) done_ = total_;
  note_ = note;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (tty_ ? since >= 0.1 : since >= log_interval_s_) draw(false);
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  draw(true);
}

void Progress::draw(bool final_line) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double frac = total_ > 0 ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  const auto here = static_cast<double>(done_ - start_done_);
  double eta = here > 0 ? elapsed / here * static_cast<double>(total_ - done_) : NAN;
  if (total_work_ > 0) eta = work_done_ > 0 ? elapsed / work_done_ * std::max(0.0, total_work_ - work_done_) : NAN;
  constexpr int width = 28;
  const int filled = static_cast<int>(std::floor(frac * width));
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(width - filled), '.');
  std::string line = fmt::format("{} [{}] {}/{} {:3.0f}% elapsed {} ETA {}", label_, bar, done_, total_, 100.0 * frac,
                                 format_duration(elapsed), final_line ? "0s" : format_duration(eta));
  if (!note_.empty() && !final_line) line += "  " + note_;
  if (tty_) {
    if (line.size() > 150) line.resize(150);
    drawn_width_ = std::max(drawn_width_, line.size());
    emit("\r" + line + "\033[K" + (final_line ? "\n" : ""));
  } else {
    emit(line + "\n");
  }
}

}  // namespace adaswarm::util
