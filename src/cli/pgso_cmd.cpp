// Placeholder: replaced by the real subcommand.
#include <stdexcept>

#include "commands.h"

namespace adaswarm::cli {
void add_pgso_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("pgso", "(not built yet)");
  cmd->callback([] { throw std::runtime_error("'pgso' is not implemented yet"); });
}
}  // namespace adaswarm::cli
