// Placeholder: replaced by the real subcommand.
#include <stdexcept>

#include "commands.h"

namespace adaswarm::cli {
void add_functions_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("functions", "(not built yet)");
  cmd->callback([] { throw std::runtime_error("'functions' is not implemented yet"); });
}
}  // namespace adaswarm::cli
