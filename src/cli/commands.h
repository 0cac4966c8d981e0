// Subcommands of the `adaswarm` tool; each file under src/cli/ registers one.
#pragma once
#include <CLI/CLI.hpp>

namespace adaswarm::cli {
void add_functions_command(CLI::App& app);  // functions_cmd.cpp: AdaSwarm paper Tables I-III, Fig. 1
void add_tables_command(CLI::App& app);     // tables_cmd.cpp: UCI Tables IV, V, supp. 5
void add_train_command(CLI::App& app);      // train_cmd.cpp: CNN / ResNet-18 vision trainer
void add_pgso_command(CLI::App& app);       // pgso_cmd.cpp: PGSO bench / train / scaling
void add_fidelity_command(CLI::App& app);   // fidelity_cmd.cpp: swarm / SPSA / Gaussian dL/dy vs autograd
void add_usecases_command(CLI::App& app);   // usecases_cmd.cpp: hard-loss use cases with controls
}  // namespace adaswarm::cli
