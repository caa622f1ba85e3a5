// SPDX-License-Identifier: AGPL-3.0-or-later
#include "progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "text.h"

namespace parley::cli {

namespace {

constexpr std::size_t kBarCells = 20;
constexpr auto kRedrawEvery = std::chrono::milliseconds(200);

// Display columns of UTF-8 text, counted as code points (close enough for file names).
std::size_t columns(const std::string& text) {
  std::size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++count;
  }
  return count;
}

// The first `keep` code points of `text`.
std::string first_columns(const std::string& text, std::size_t keep) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) {
      if (seen == keep) return text.substr(0, i);
      ++seen;
    }
  }
  return text;
}

unsigned percent_of(const ProgressFigures& figures) {
  if (figures.total == 0 || figures.done >= figures.total) return 100;
  return static_cast<unsigned>(figures.done * 100 / figures.total);
}

std::string rate_text(double bytes_per_second) {
  if (bytes_per_second <= 0) return "--/s";
  return format_bytes(static_cast<std::uint64_t>(bytes_per_second)) + "/s";
}

}  // namespace

std::string format_bytes(std::uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  char buffer[32];
  (void)std::snprintf(buffer, sizeof(buffer), "%.1f %s", value, kUnits[unit]);
  return buffer;
}

std::string format_eta(std::optional<double> seconds) {
  if (!seconds || !std::isfinite(*seconds) || *seconds < 0) return "--:--";
  auto total = static_cast<std::uint64_t>(std::llround(*seconds));
  if (total > 99 * 3600 + 59 * 60 + 59) total = 99 * 3600 + 59 * 60 + 59;
  char buffer[32];
  if (total >= 3600) {
    (void)std::snprintf(buffer, sizeof(buffer), "%u:%02u:%02u", static_cast<unsigned>(total / 3600),
                        static_cast<unsigned>(total / 60 % 60), static_cast<unsigned>(total % 60));
  } else {
    (void)std::snprintf(buffer, sizeof(buffer), "%u:%02u", static_cast<unsigned>(total / 60),
                        static_cast<unsigned>(total % 60));
  }
  return buffer;
}

std::string progress_bar_line(const std::string& name, bool upload, const ProgressFigures& figures,
                              std::size_t width) {
  unsigned percent = percent_of(figures);
  std::size_t filled = percent * kBarCells / 100;
  char percent_text[8];
  (void)std::snprintf(percent_text, sizeof(percent_text), "%3u%%", percent);
  std::string tail = " [" + std::string(filled, '#') + std::string(kBarCells - filled, '-') + "] " +
                     percent_text + "  " + format_bytes(figures.done) + " / " +
                     format_bytes(figures.total) + "  " + rate_text(figures.bytes_per_second) +
                     "  ETA " + format_eta(figures.eta_seconds);
  std::string verb = upload ? "sending " : "receiving ";
  std::string shown = name;
  std::size_t fixed = columns(verb) + columns(tail);
  if (fixed + columns(shown) > width) {
    std::size_t room = width > fixed + 3 ? width - fixed - 3 : 0;
    shown = first_columns(shown, std::max<std::size_t>(room, 5)) + "...";
  }
  return verb + shown + tail;
}

std::string progress_plain_line(const std::string& name, bool upload,
                                const ProgressFigures& figures) {
  return std::string("parley: ") + (upload ? "sending " : "receiving ") + name + ": " +
         std::to_string(percent_of(figures)) + "% (" + format_bytes(figures.done) + " of " +
         format_bytes(figures.total) + ", " + rate_text(figures.bytes_per_second) + ", ETA " +
         format_eta(figures.eta_seconds) + ")";
}

std::optional<std::string> ProgressMeter::update(const client::TransferProgress& progress,
                                                 Clock::time_point now) {
  std::string key = (progress.upload ? "u" : "d") + progress.client_message_id_hex;
  bool complete = progress.done_bytes >= progress.total_bytes;
  if (key != current_ || (finished_ && !complete)) {
    current_ = key;
    started_ = now;
    started_done_ = progress.done_bytes;
    last_print_ = {};
    last_decile_ = -1;
    finished_ = false;
  }
  if (finished_) return std::nullopt;  // the end was shown already

  ProgressFigures figures;
  figures.done = progress.done_bytes;
  figures.total = progress.total_bytes;
  double elapsed = std::chrono::duration<double>(now - started_).count();
  if (elapsed >= 0.5 && progress.done_bytes > started_done_) {
    figures.bytes_per_second = static_cast<double>(progress.done_bytes - started_done_) / elapsed;
    figures.eta_seconds = static_cast<double>(progress.total_bytes -
                                              std::min(progress.done_bytes, progress.total_bytes)) /
                          figures.bytes_per_second;
  }
  if (complete) figures.eta_seconds = 0.0;

  if (terminal_) {
    bool drawn_before = last_print_ != Clock::time_point{};
    if (!complete && drawn_before && now - last_print_ < kRedrawEvery) return std::nullopt;
    last_print_ = now;
    finished_ = complete;
    // Carriage return, the bar, then "erase to the end of the line" for a shorter redraw.
    return "\r" +
           progress_bar_line(terminal_safe(progress.file_name, false), progress.upload, figures,
                             width_) +
           "\x1b[K" + (complete ? "\n" : "");
  }
  int decile = progress.total_bytes == 0
                   ? 10
                   : static_cast<int>(std::min<std::uint64_t>(
                         10, progress.done_bytes * 10 / progress.total_bytes));
  if (!complete && decile <= last_decile_) return std::nullopt;
  last_decile_ = decile;
  finished_ = complete;
  return progress_plain_line(terminal_safe(progress.file_name, false), progress.upload, figures) +
         "\n";
}

}  // namespace parley::cli
