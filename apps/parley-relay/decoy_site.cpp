// SPDX-License-Identifier: AGPL-3.0-or-later
#include "decoy_site.h"

#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace parley::relay {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kMaxDecoyFileBytes = 8u << 20;

// ---- the built-in decoy site: a small personal homepage ------------------------------------

constexpr std::string_view kIndexHtml = R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Notes from the workshop</title>
<style>
body{max-width:40em;margin:3em auto;padding:0 1em;font:17px/1.6 Georgia,serif;color:#222;background:#fdfcf8}
h1{font-weight:normal;margin-bottom:0}.sub{color:#777;margin-top:.2em}
article{margin:2.2em 0}h2{font-size:1.15em;margin-bottom:.2em}time{color:#888;font-size:.9em}
a{color:#2a5d8f}footer{margin-top:4em;color:#999;font-size:.85em}
</style>
</head>
<body>
<h1>Notes from the workshop</h1>
<p class="sub">Woodworking, old radios and the occasional loaf of bread.</p>
<article>
<h2>Restoring a 1958 valve radio, part 3</h2>
<time datetime="2025-10-12">12 October 2025</time>
<p>The new capacitors finally arrived. After replacing the last of the wax-paper ones the hum is
gone, and the dial lamp works again. Next: the cabinet, which has seen better decades.</p>
</article>
<article>
<h2>A simple sourdough schedule for busy weeks</h2>
<time datetime="2025-08-30">30 August 2025</time>
<p>Feed the starter at night, mix in the morning, shape after work and bake the next day. Cold
retard in the fridge does most of the work for you.</p>
</article>
<article>
<h2>Hand-cut dovetails without the fuss</h2>
<time datetime="2025-06-03">3 June 2025</time>
<p>Tails first, a sharp chisel and a lot of patience. My third attempt was the first one I did not
hide at the back of the drawer.</p>
</article>
<footer>Written and photographed by me. Comments by e-mail are always welcome.</footer>
</body>
</html>
)";

constexpr std::string_view kNotFoundHtml = R"(<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Not found</title></head>
<body style="max-width:40em;margin:3em auto;font:17px/1.6 Georgia,serif">
<h1>Page not found</h1>
<p>Sorry, there is nothing here. Try the <a href="/">front page</a>.</p>
</body>
</html>
)";

std::string read_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

std::string content_type_of(const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".html" || ext == ".htm") return "text/html; charset=utf-8";
  if (ext == ".css") return "text/css";
  if (ext == ".js") return "application/javascript";
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".gif") return "image/gif";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  if (ext == ".xml") return "application/xml";
  return "application/octet-stream";
}

// The file for a request target in --decoy-dir, or nullopt. Only plain relative paths of
// [A-Za-z0-9._-] segments, none empty or starting with '.', so nothing outside the directory is
// reachable (symbolic links the operator put inside it are followed).
std::optional<std::string> decoy_file(const std::string& dir, std::string_view target) {
  const auto query = target.find_first_of("?#");
  std::string path(target.substr(0, query));
  if (path.empty() || path.front() != '/') return std::nullopt;
  if (path.back() == '/') path += "index.html";
  bool segment_start = false;  // the leading '/' starts the first segment
  for (char c : path) {
    const bool ok =
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '/';
    // No dot files, no "..", and no empty segment: "//etc/passwd" would make the joined path
    // absolute.
    if (!ok || (segment_start && (c == '.' || c == '/'))) return std::nullopt;
    segment_start = c == '/';
  }
  const fs::path file = fs::path(dir) / fs::path(path.substr(1)).relative_path();
  std::error_code ec;
  if (!fs::is_regular_file(file, ec) || fs::file_size(file, ec) > kMaxDecoyFileBytes) {
    return std::nullopt;
  }
  return file.string();
}

DecoyPage decoy_page(const std::string& decoy_dir, bool get_or_head, std::string_view target) {
  DecoyPage page;
  if (!get_or_head) {
    page.status = 405;
    page.allow_get_head = true;
    page.content_type = "text/html; charset=utf-8";
    page.body = std::string(kNotFoundHtml);
  } else if (!decoy_dir.empty()) {
    if (auto file = decoy_file(decoy_dir, target)) {
      page.status = 200;
      page.content_type = content_type_of(*file);
      page.body = read_file(*file);
    } else {
      page.status = 404;
      auto not_found = decoy_file(decoy_dir, "/404.html");
      page.content_type = "text/html; charset=utf-8";
      page.body = not_found ? read_file(*not_found) : std::string(kNotFoundHtml);
    }
  } else {
    const auto path = target.substr(0, target.find_first_of("?#"));
    if (path == "/" || path == "/index.html") {
      page.status = 200;
      page.content_type = "text/html; charset=utf-8";
      page.body = std::string(kIndexHtml);
    } else {
      page.status = 404;
      page.content_type = "text/html; charset=utf-8";
      page.body = std::string(kNotFoundHtml);
    }
  }
  return page;
}

}  // namespace parley::relay
