// A thread-safe progress bar with elapsed time and ETA, for long runs.
//
//   adaswarm::util::Progress bar(total, "tables");
//   ... bar.advance(1, "iris/adam/seed 3");   // from any thread
//   bar.finish();
// On a terminal it redraws one line ("\r"); otherwise (logs, CI) it prints a
// line at most every `log_interval_s` seconds and at the end.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iosfwd>
#include <mutex>
#include <string>

namespace adaswarm::util {

class Progress {
 public:
  /// enabled = false: prints nothing. out: stderr by default.
  Progress(int64_t total, std::string label, bool enabled = true, std::FILE* out = stderr,
           double log_interval_s = 10.0);
  /// Draws on a C++ stream (nullptr: prints nothing); `terminal`: redraw one
  /// line, else print a line at most every log_interval_s seconds.
  Progress(int64_t total, std::string label, std::ostream* out, bool terminal, double log_interval_s = 10.0);
  ~Progress();
  /// Starts the count at `done` items (a resumed run); the ETA is computed from
  /// the items done after this call only.
  void resume_from(int64_t done);
  void advance(int64_t n = 1, const std::string& note = "");
  /// Items of unequal cost: give the total work once, then advance(n, note, work)
  /// so the ETA follows the work done rather than the item count.
  void set_total_work(double work);
  void advance(int64_t n, const std::string& note, double work);
  /// Prints the final line (once).
  void finish();
  /// Instead of a final line: erases the bar (terminal) so that the caller's
  /// own summary line takes its place. Nothing is drawn afterwards.
  void clear();
  int64_t done() const;
  /// "1h02m", "3m07s", "12s".
  static std::string format_duration(double seconds);

 private:
  void draw(bool final_line);
  void emit(const std::string& text);
  int64_t total_;
  int64_t done_ = 0, start_done_ = 0;
  double total_work_ = 0, work_done_ = 0;
  std::string label_, note_;
  bool enabled_, tty_, finished_ = false;
  std::FILE* out_ = nullptr;
  std::ostream* os_ = nullptr;
  double log_interval_s_;
  size_t drawn_width_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  mutable std::mutex mutex_;
};

}  // namespace adaswarm::util
