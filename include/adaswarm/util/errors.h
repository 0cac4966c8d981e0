// Error messages for people: LibTorch's c10::Error carries a C++ backtrace in
// what(); a user needs the sentence, not the frames.
#pragma once
#include <exception>
#include <string>

namespace adaswarm::util {

/// The message of `e` without LibTorch's backtrace ("Exception raised from ...
/// frame #0 ..."), also when a c10::Error's what() was wrapped into another
/// exception's message.
std::string message_of(const std::exception& e);

/// The message of a JSON library exception without its "[json.exception.type_error.302] "
/// tag, e.g. "key 'seed' not found" or "type must be number, but is string".
std::string json_message(const std::exception& e);

/// `text` up to LibTorch's backtrace, without trailing blanks.
std::string strip_backtrace(const std::string& text);

}  // namespace adaswarm::util
