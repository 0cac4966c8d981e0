// adaswarm: the command-line tool. Each subcommand lives in its own file.
#include <malloc.h>

#include <cstdio>
#include <exception>

#include "commands.h"

int main(int argc, char** argv) {
  // glibc malloc mmaps/unmaps every large activation each step; keeping those
  // blocks in the heap made the paper CNN's step 2.3-2.7x faster here.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
  mallopt(M_TOP_PAD, 64 * 1024 * 1024);

  CLI::App app{"adaswarm: swarm-intelligence optimisers for LibTorch (AdaSwarm, EMPSO, PGSO)"};
  app.require_subcommand(1);
  adaswarm::cli::add_functions_command(app);
  adaswarm::cli::add_tables_command(app);
  adaswarm::cli::add_train_command(app);
  adaswarm::cli::add_pgso_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "adaswarm: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
