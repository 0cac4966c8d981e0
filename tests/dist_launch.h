// Starts N ranks on 127.0.0.1 for the distributed tests: each rank is this test
// executable again (posix_spawn of /proc/self/exe, no fork of a threaded
// process) running one worker test, with torchrun's variables and a free port.
// Worker tests skip themselves unless ADASWARM_DIST_WORKER is set.
#pragma once
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace adaswarm::testing {

/// A TCP port that was free a moment ago (bound to port 0, then closed).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline bool is_worker() { return std::getenv("ADASWARM_DIST_WORKER") != nullptr; }
inline std::string worker_out() {
  const char* d = std::getenv("ADASWARM_DIST_OUT");
  return d ? d : ".";
}

struct RankResult {
  int exit_code = -1;  ///< 128 + signal when killed; -1: still running at the deadline (then killed)
  std::string output;  ///< stdout + stderr
};

struct Launch {
  int ranks = 2;             ///< processes started
  int world_size = -1;       ///< WORLD_SIZE given (-1: ranks)
  std::string worker;        ///< gtest filter of the worker test
  std::string out_dir;       ///< ADASWARM_DIST_OUT
  int port = 0;              ///< 0: a free one
  double deadline = 120;     ///< seconds before the ranks are killed
  std::map<std::string, std::string> env;  ///< extra variables
  double seconds = 0;        ///< (out) wall time until every rank exited
};

/// Starts the ranks, waits for all (killing them at the deadline), returns one result per rank.
inline std::vector<RankResult> run_ranks(Launch& L) {
  const int world = L.world_size < 0 ? L.ranks : L.world_size;
  const int port = L.port ? L.port : free_port();
  std::vector<pid_t> pids;
  std::vector<std::string> logs;
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < L.ranks; ++r) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      const std::string kv = *e;
      const std::string k = kv.substr(0, kv.find('='));
      if (k == "RANK" || k == "WORLD_SIZE" || k == "LOCAL_RANK" || k == "MASTER_ADDR" || k == "MASTER_PORT" ||
          k == "LOCAL_WORLD_SIZE" || L.env.count(k))
        continue;
      env.push_back(kv);
    }
    env.push_back("RANK=" + std::to_string(r));
    env.push_back("LOCAL_RANK=" + std::to_string(r));
    env.push_back("WORLD_SIZE=" + std::to_string(world));
    env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(world));
    env.push_back("MASTER_ADDR=127.0.0.1");
    env.push_back("MASTER_PORT=" + std::to_string(port));
    env.push_back("OMP_NUM_THREADS=1");
    env.push_back("ADASWARM_DIST_WORKER=1");
    env.push_back("ADASWARM_DIST_OUT=" + L.out_dir);
    for (const auto& [k, v] : L.env) env.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string exe = "/proc/self/exe", filter = "--gtest_filter=" + L.worker;
    std::vector<char*> argv{exe.data(), filter.data(), nullptr};
    logs.push_back(L.out_dir + "/rank" + std::to_string(r) + ".log");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, logs.back().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("posix_spawn failed");
    pids.push_back(pid);
  }
  std::vector<RankResult> res(static_cast<size_t>(L.ranks));
  std::vector<bool> done(static_cast<size_t>(L.ranks), false);
  int left = L.ranks;
  while (left > 0) {
    for (int r = 0; r < L.ranks; ++r) {
      if (done[r]) continue;
      int status = 0;
      if (::waitpid(pids[r], &status, WNOHANG) == pids[r]) {
        done[r] = true;
        --left;
        res[r].exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
    }
    if (left == 0) break;
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > L.deadline) {
      for (int r = 0; r < L.ranks; ++r)
        if (!done[r]) {
          ::kill(pids[r], SIGKILL);
          ::waitpid(pids[r], nullptr, 0);
          res[r].exit_code = -1;
        }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  L.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (int r = 0; r < L.ranks; ++r) {
    std::ifstream f(logs[r]);
    std::stringstream ss;
    ss << f.rdbuf();
    res[r].output = ss.str();
  }
  return res;
}

/// All outputs, for failure messages.
inline std::string outputs(const std::vector<RankResult>& rs) {
  std::string s;
  for (size_t r = 0; r < rs.size(); ++r)
    s += "---- rank " + std::to_string(r) + " (exit " + std::to_string(rs[r].exit_code) + ")\n" + rs[r].output;
  return s;
}

}  // namespace adaswarm::testing
