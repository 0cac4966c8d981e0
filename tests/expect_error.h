// Expecting an error of a given type whose message names what is wrong.
#pragma once
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace adaswarm::testing {

/// Runs f; fails unless it throws E (std::invalid_argument by default) with
/// `part` in its message.
template <typename E = std::invalid_argument, typename F>
void expect_error(F&& f, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing '" << part << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

}  // namespace adaswarm::testing
