// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The relay's plain parts without sockets: the settings' routes, the static decoy's pages, the
// connection limits and the admin page. relay_test.cpp drives the same code through the process.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "admin_page.h"
#include "connection_limits.h"
#include "decoy_site.h"
#include "parley/net/relay_link.h"
#include "routes.h"

namespace parley::relay {
namespace {

namespace fs = std::filesystem;

class DecoySiteDirTest : public ::testing::Test {
 protected:
  DecoySiteDirTest() {
    std::random_device random;
    dir_ = fs::temp_directory_path() /
           ("parley-relay-parts-" + std::to_string(random()) + std::to_string(random()));
    fs::create_directories(dir_ / "notes");
    fs::create_directories(dir_ / ".git");
    write("index.html", "<p>home</p>");
    write("notes/index.html", "<p>notes</p>");
    write("style.css", "body{}");
    write(".git/config", "private");
  }
  ~DecoySiteDirTest() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  std::string dir() const { return dir_.string(); }

 private:
  fs::path dir_;
};

TEST(DecoySiteTest, TheBuiltInHomepageAnswersOnlyTheFrontPage) {
  const DecoyPage home = decoy_page("", true, "/?utm=1");
  EXPECT_EQ(home.status, 200u);
  EXPECT_EQ(home.content_type, "text/html; charset=utf-8");
  EXPECT_NE(home.body.find("Notes from the workshop"), std::string::npos);
  EXPECT_EQ(decoy_page("", true, "/index.html").body, home.body);

  const DecoyPage missing = decoy_page("", true, "/admin");
  EXPECT_EQ(missing.status, 404u);
  EXPECT_NE(missing.body.find("Page not found"), std::string::npos);
  EXPECT_FALSE(missing.allow_get_head);
}

TEST(DecoySiteTest, OtherMethodsGetA405NamingGetAndHead) {
  const DecoyPage page = decoy_page("", false, "/");
  EXPECT_EQ(page.status, 405u);
  EXPECT_TRUE(page.allow_get_head);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("Page not found"), std::string::npos);
}

TEST_F(DecoySiteDirTest, ServesTheDirectorysFilesAndNothingOutside) {
  EXPECT_EQ(decoy_file(dir(), "/"), (fs::path(dir()) / "index.html").string());
  EXPECT_EQ(decoy_file(dir(), "/notes/?page=2"), (fs::path(dir()) / "notes/index.html").string());
  EXPECT_TRUE(decoy_file(dir(), "/style.css#top").has_value());
  for (const char* target :
       {"", "style.css", "/../etc/passwd", "/notes/../index.html", "//etc/passwd", "/.git/config",
        "/notes//index.html", "/a b", "/missing.html", "/notes"}) {
    EXPECT_FALSE(decoy_file(dir(), target).has_value()) << target;
  }

  const DecoyPage css = decoy_page(dir(), true, "/style.css");
  EXPECT_EQ(css.status, 200u);
  EXPECT_EQ(css.content_type, "text/css");
  EXPECT_EQ(css.body, "body{}");
}

TEST_F(DecoySiteDirTest, AMissingFileGetsThe404PageOfTheDirectoryWhenThereIsOne) {
  EXPECT_NE(decoy_page(dir(), true, "/missing").body.find("Page not found"), std::string::npos);
  write("404.html", "<p>gone</p>");
  const DecoyPage page = decoy_page(dir(), true, "/missing");
  EXPECT_EQ(page.status, 404u);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(page.body, "<p>gone</p>");
}

TEST(DecoySiteTest, ContentTypesFollowTheExtension) {
  EXPECT_EQ(content_type_of("/x/a.htm"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_of("a.jpeg"), "image/jpeg");
  EXPECT_EQ(content_type_of("a.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_of("a.tar.gz"), "application/octet-stream");
  EXPECT_EQ(content_type_of("README"), "application/octet-stream");
}

TEST(ConnectionSlotTest, ThePerIpLimitCountsEachAddressAndFreesItsPlace) {
  RelayCounters counters;
  auto first = ConnectionSlot::admit(counters, 10, 2, "192.0.2.1");
  auto second = ConnectionSlot::admit(counters, 10, 2, "192.0.2.1");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(ConnectionSlot::admit(counters, 10, 2, "192.0.2.1"), nullptr);
  EXPECT_EQ(counters.refused_ip_limit.load(), 1u);
  auto other = ConnectionSlot::admit(counters, 10, 2, "192.0.2.2");
  EXPECT_NE(other, nullptr);
  EXPECT_EQ(counters.active.load(), 3u);

  first.reset();
  EXPECT_EQ(counters.active.load(), 2u);
  EXPECT_NE(ConnectionSlot::admit(counters, 10, 2, "192.0.2.1"), nullptr);  // freed again at once
  second.reset();
  other.reset();
  EXPECT_EQ(counters.active.load(), 0u);
  EXPECT_TRUE(counters.per_ip.empty());
}

TEST(ConnectionSlotTest, TheTotalLimitRefusesEveryoneAndZeroPerIpMeansNoLimit) {
  RelayCounters counters;
  auto a = ConnectionSlot::admit(counters, 2, 0, "192.0.2.1");
  auto b = ConnectionSlot::admit(counters, 2, 0, "192.0.2.1");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(ConnectionSlot::admit(counters, 2, 0, "192.0.2.9"), nullptr);
  EXPECT_EQ(counters.refused_total_limit.load(), 1u);
  EXPECT_EQ(counters.refused_ip_limit.load(), 0u);
  EXPECT_EQ(counters.per_ip.count("192.0.2.9"), 0u);
}

TEST(AdminPageTest, MetricsHealthzAndNotFound) {
  RelayCounters counters;
  counters.accepted = 7;
  counters.refused_ip_limit = 2;
  const std::string metrics = admin_response("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", counters);
  EXPECT_EQ(metrics.rfind("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4", 0), 0u);
  const std::string body = metrics_text(counters);
  EXPECT_NE(metrics.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n"),
            std::string::npos);
  EXPECT_EQ(metrics.substr(metrics.size() - body.size()), body);
  EXPECT_NE(body.find("# TYPE parley_relay_connections_accepted_total counter\n"
                      "parley_relay_connections_accepted_total 7\n"),
            std::string::npos);
  EXPECT_NE(body.find("parley_relay_refused_total{limit=\"max_connections_per_ip\"} 2\n"),
            std::string::npos);

  EXPECT_EQ(admin_response("GET /healthz HTTP/1.0\r\n\r\n", counters),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
            "3\r\nConnection: close\r\n\r\nok\n");
  for (const char* request : {"GET /metricsx HTTP/1.1\r\n\r\n", "POST /metrics HTTP/1.1\r\n\r\n",
                              "GET / HTTP/1.1\r\nX: GET /healthz \r\n\r\n"}) {
    EXPECT_EQ(admin_response(request, counters).rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u)
        << request;
  }
}

std::string random_hex(std::size_t bytes) {
  std::random_device random;
  std::string hex;
  for (std::size_t i = 0; i < bytes; ++i) {
    hex += "0123456789abcdef"[random() & 15];
    hex += "0123456789abcdef"[random() & 15];
  }
  return hex;
}

TEST(RoutesTest, ExactlyOneUpstreamAndOneKindOfDecoy) {
  RelaySettings settings;
  EXPECT_EQ(plan_routes(settings).status().code(), ErrorCode::kInvalidArgument);

  settings.upstream = "127.0.0.1:9000";
  auto routes = plan_routes(settings);
  ASSERT_TRUE(routes.ok()) << routes.status().to_string();
  EXPECT_EQ(routes->upstream_address.host, "127.0.0.1");
  EXPECT_EQ(routes->upstream_address.port, 9000);
  EXPECT_FALSE(routes->upstream_link || routes->decoy_upstream);

  net::RelayLink link;
  link.host = "192.0.2.5";
  link.secret_hex = random_hex(net::kRelaySecretBytes);
  link.pin_hex = random_hex(32);
  settings.upstream_link = net::format_relay_link(link);
  EXPECT_EQ(plan_routes(settings).status().message(),
            "give exactly one of --upstream HOST:PORT or --upstream-link LINK");
  settings.upstream.clear();
  routes = plan_routes(settings);
  ASSERT_TRUE(routes.ok()) << routes.status().to_string();
  ASSERT_TRUE(routes->upstream_link);
  EXPECT_EQ(routes->upstream_link->host, "192.0.2.5");

  settings.decoy_upstream = "127.0.0.1:8080";
  routes = plan_routes(settings);
  ASSERT_TRUE(routes.ok() && routes->decoy_upstream);
  EXPECT_EQ(routes->decoy_upstream->port, 8080);
  settings.decoy_dir = fs::temp_directory_path().string();
  EXPECT_EQ(plan_routes(settings).status().message(),
            "--decoy-dir and --decoy-upstream exclude each other");
  settings.decoy_upstream.clear();
  EXPECT_TRUE(plan_routes(settings).ok());
  settings.decoy_dir = (fs::temp_directory_path() / "parley-relay-parts-no-such-dir").string();
  EXPECT_EQ(plan_routes(settings).status().message(), "--decoy-dir is not a directory");
}

TEST(RoutesTest, BadAddressesNameTheirFlag) {
  RelaySettings settings;
  settings.upstream = "no-port";
  EXPECT_EQ(plan_routes(settings).status().message().rfind("--upstream: ", 0), 0u);
  settings.upstream.clear();
  settings.upstream_link = "parley://relay?nonsense";
  EXPECT_EQ(plan_routes(settings).status().message().rfind("--upstream-link: ", 0), 0u);
  settings.upstream_link.clear();
  settings.upstream = "127.0.0.1:9000";
  settings.decoy_upstream = "[::1";
  EXPECT_EQ(plan_routes(settings).status().message().rfind("--decoy-upstream: ", 0), 0u);
}

}  // namespace
}  // namespace parley::relay
