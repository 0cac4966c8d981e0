#include "adaswarm/util/errors.h"

#include <c10/util/Exception.h>

namespace adaswarm::util {

std::string strip_backtrace(const std::string& text) {
  std::string s = text;
  const auto at = s.find("Exception raised from ");
  if (at != std::string::npos) s.erase(at);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string message_of(const std::exception& e) {
  if (const auto* c10e = dynamic_cast<const c10::Error*>(&e)) return strip_backtrace(c10e->what_without_backtrace());
  return strip_backtrace(e.what());
}

std::string json_message(const std::exception& e) {
  std::string s = e.what();
  if (s.rfind("[json.exception.", 0) == 0) {
    const auto close = s.find("] ");
    if (close != std::string::npos) s.erase(0, close + 2);
  }
  return s;
}

}  // namespace adaswarm::util
