// Placeholder: replaced by the real subcommand.
#include <stdexcept>

#include "commands.h"

namespace adaswarm::cli {
void add_tables_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("tables", "(not built yet)");
  cmd->callback([] { throw std::runtime_error("'tables' is not implemented yet"); });
}
}  // namespace adaswarm::cli
