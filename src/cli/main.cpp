// adaswarm: the command-line tool. Each subcommand lives in its own file.
#include <cstdio>
#include <exception>
#include <string>

#include "adaswarm/util/allocator.h"
#include "adaswarm/util/errors.h"
#include "commands.h"

int main(int argc, char** argv) {
  // Keep large activation blocks in the heap (util/allocator.h).
  adaswarm::util::tune_malloc_for_training();

  CLI::App app{"adaswarm: swarm-intelligence optimisers for LibTorch (AdaSwarm, EMPSO, PGSO)"};
  app.require_subcommand(1);
  adaswarm::cli::add_functions_command(app);
  adaswarm::cli::add_tables_command(app);
  adaswarm::cli::add_train_command(app);
  adaswarm::cli::add_pgso_command(app);
  adaswarm::cli::add_fidelity_command(app);
  adaswarm::cli::add_usecases_command(app);
  if (argc > 1 && argv[1][0] != '-') {  // CLI11 would only say "A subcommand is required"
    std::string names;
    bool known = false;
    for (const auto* sub : app.get_subcommands({})) {
      names += (names.empty() ? "" : ", ") + sub->get_name();
      known = known || sub->get_name() == argv[1];
    }
    if (!known) {
      std::fprintf(stderr, "adaswarm: error: unknown command '%s' (expected one of: %s; see adaswarm --help)\n",
                   argv[1], names.c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "adaswarm: error: %s\n", adaswarm::util::message_of(e).c_str());  // no LibTorch backtrace
    return 1;
  }
  return 0;
}
