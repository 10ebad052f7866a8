// SPDX-License-Identifier: MIT
// The shared test fixtures themselves: temporary directories, child processes and the nginx server.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/blocking_http.hpp"
#include "support/files.hpp"
#include "support/nginx_fixture.hpp"
#include "support/process.hpp"
#include "support/server_thread.hpp"
#include "support/temp_dir.hpp"

namespace luaload::test {
namespace {

using namespace std::chrono_literals;

struct RawResponse {
  int status = 0;
  std::string head;
  std::string body;
};

// GET through the naive support client, split into status, head and body; status 0 when the answer is not HTTP/1.1.
RawResponse parsed_get(uint16_t port, const std::string& path) {
  RawResponse response;
  const std::string raw = blocking_get(port, path);
  const size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) == 0 && end != std::string::npos) {
    response.status = std::stoi(raw.substr(9, 3));
    response.head = raw.substr(0, end);
    response.body = raw.substr(end + 4);
  }
  return response;
}

TEST(TempDirTest, CreatesADirectoryAndRemovesItWithItsContentOnDestruction) {
  std::filesystem::path kept;
  {
    TempDir dir;
    kept = dir.path();
    dir.write_file("a/b/c.txt", "hello");
    ASSERT_TRUE(std::filesystem::is_directory(kept));
  }
  EXPECT_FALSE(std::filesystem::exists(kept));
}

TEST(TempDirTest, WriteFileCreatesParentFoldersAndStoresTheExactBytes) {
  TempDir dir;
  const auto path = dir.write_file("nested/data.bin", std::string("a\0b", 3));
  std::ifstream in(path, std::ios::binary);
  const std::string read((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(path, dir.path() / "nested/data.bin");
  EXPECT_EQ(read, std::string("a\0b", 3));
}

TEST(FilesTest, ReadTextReturnsTheExactBytes) {
  TempDir dir;
  EXPECT_EQ(read_text(dir.write_file("data.bin", std::string("a\0b\r\n", 5))), std::string("a\0b\r\n", 5));
}

TEST(FilesTest, ReadTextOfAMissingFileIsEmpty) {
  TempDir dir;
  EXPECT_EQ(read_text(dir.path() / "missing.txt"), "");
}

TEST(FilesTest, ReadJsonFileParsesTheWholeFile) {
  TempDir dir;
  const auto json = read_json_file(dir.write_file("summary.json", R"({"metrics":{"vus":{"value":2}}})"));
  EXPECT_EQ(json["metrics"]["vus"]["value"], 2);
}

TEST(FilesTest, ReadJsonFileOfInvalidOrMissingJsonIsDiscarded) {
  TempDir dir;
  EXPECT_TRUE(read_json_file(dir.write_file("cut.json", R"({"metrics":)")).is_discarded());
  EXPECT_TRUE(read_json_file(dir.path() / "missing.json").is_discarded());
}

TEST(ServerThreadTest, AnswersOnItsOwnThreadWhileTheTestThreadBlocks) {
  // close_after, because parsed_get reads until the connection closes.
  ServerThread server({Reply{Reply::Action::Respond, http_response(200, "ok"), true}});
  server.start();
  const RawResponse response = parsed_get(server.server().port(), "/");
  server.stop();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ok");
  EXPECT_EQ(server.server().requests(), 1u);
}

TEST(ServerThreadTest, StopsCleanlyWhenNeverStarted) {
  ServerThread server({Reply{Reply::Action::Respond, http_response(200, "ok")}});
  server.stop();
  server.stop();  // idempotent; the destructor then checks uv_loop_close == 0
  EXPECT_EQ(server.server().accepts(), 0u);
}

TEST(RunProcessTest, CapturesStdoutStderrAndTheExitCode) {
  const ProcessResult r = run_process({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_TRUE(r.started);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.term_signal, 0);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(RunProcessTest, GivesTheChildAnEmptyStdin) {
  const ProcessResult r = run_process({"cat"}, 5s);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out, "");
}

TEST(RunProcessTest, AddsAndOverridesEnvironmentVariables) {
  ProcessOptions options;
  options.argv = {"/bin/sh", "-c", "echo \"$LUALOAD_FIXTURE_A $HOME\""};
  options.env = {"LUALOAD_FIXTURE_A=1", "HOME=/h"};
  const ProcessResult r = run_process(options);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out, "1 /h\n");
}

TEST(RunProcessTest, RunsInTheRequestedWorkingDirectory) {
  TempDir dir;
  ProcessOptions options;
  options.argv = {"pwd"};
  options.working_dir = dir.path();
  const ProcessResult r = run_process(options);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out, std::filesystem::canonical(dir.path()).string() + "\n");
}

TEST(RunProcessTest, KillsTheWholeProcessGroupWhenTheTimeoutExpires) {
  const auto start = std::chrono::steady_clock::now();
  const ProcessResult r = run_process({"/bin/sh", "-c", "sleep 30 & sleep 30"}, 200ms);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.term_signal, SIGKILL);
  EXPECT_EQ(r.exit_code, -1);
  // The background sleep holds stdout; returning promptly proves it was killed with its parent.
  EXPECT_LT(elapsed, 3s);
}

TEST(RunProcessTest, ReportsAMissingProgramAsASpawnError) {
  const ProcessResult r = run_process({"luaload-no-such-program"});
  EXPECT_FALSE(r.started);
  EXPECT_EQ(r.spawn_error, "posix_spawn(luaload-no-such-program): No such file or directory");
}

TEST(BackgroundProcessTest, StopEndsTheChildWithTheFirstSignalWithinTheGracePeriod) {
  TempDir dir;
  BackgroundProcess child;
  std::string error;
  ASSERT_TRUE(child.start({"sleep", "30"}, dir.path() / "log", &error)) << error;
  EXPECT_TRUE(child.running());
  EXPECT_TRUE(child.stop(SIGTERM, 3s));
  EXPECT_FALSE(child.running());
  EXPECT_TRUE(WIFSIGNALED(child.wait_status()));
  EXPECT_EQ(WTERMSIG(child.wait_status()), SIGTERM);
}

using NginxServerTest = NginxTest;

TEST_F(NginxServerTest, ServesTheIndexPageAtRoot) {
  const RawResponse r = parsed_get(nginx().http_port(), "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, NginxServer::kIndexBody);
}

TEST_F(NginxServerTest, AnswersTheRequestedStatusCode) {
  EXPECT_EQ(parsed_get(nginx().http_port(), "/status/503").status, 503);
  EXPECT_EQ(parsed_get(nginx().http_port(), "/status/201").body, "status 201\n");
  EXPECT_EQ(parsed_get(nginx().http_port(), "/status/204").body, "");
}

TEST_F(NginxServerTest, ServesOneMebibyteAtBig) {
  const RawResponse r = parsed_get(nginx().http_port(), "/big");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.head.find("Content-Length: 1048576"), std::string::npos);
  EXPECT_EQ(r.body, std::string(NginxServer::kBigSize, 'x'));
}

TEST_F(NginxServerTest, ServesJsonWithItsContentType) {
  const RawResponse r = parsed_get(nginx().http_port(), "/json");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.head.find("Content-Type: application/json"), std::string::npos);
  EXPECT_EQ(r.body, NginxServer::kJsonBody);
}

TEST_F(NginxServerTest, StopsAcceptingConnectionsOnceStopped) {
  const uint16_t port = nginx().http_port();
  ASSERT_TRUE(can_connect(port));
  nginx().stop();
  EXPECT_FALSE(can_connect(port));
}

TEST(NginxTlsTest, ServesTlsWithTheGivenCertificate) {
  if (!NginxServer::available()) GTEST_SKIP() << "nginx is not installed";
  TempDir keys;
  const auto cert = keys.path() / "cert.pem";
  const auto key = keys.path() / "key.pem";
  const ProcessResult made = run_process(
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
       "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key.string(),
       "-out", cert.string()});
  ASSERT_TRUE(made.ok()) << made.spawn_error << made.err;
  NginxServer server({cert, key});
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  ASSERT_NE(server.https_port(), 0);
  const ProcessResult hello = run_process({"openssl", "s_client", "-connect",
                                           "127.0.0.1:" + std::to_string(server.https_port()), "-CAfile",
                                           cert.string(), "-verify_return_error", "-brief"},
                                          10s);
  EXPECT_EQ(hello.exit_code, 0) << hello.err;
  EXPECT_NE(hello.err.find("Verification: OK"), std::string::npos) << hello.err;
}

}  // namespace
}  // namespace luaload::test
