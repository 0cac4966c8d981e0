// Placeholder: replaced by the real subcommand.
#include <stdexcept>

#include "commands.h"

namespace adaswarm::cli {
void add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "(not built yet)");
  cmd->callback([] { throw std::runtime_error("'train' is not implemented yet"); });
}
}  // namespace adaswarm::cli
