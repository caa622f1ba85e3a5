// SPDX-License-Identifier: AGPL-3.0-or-later
#include "xmpp_codec.h"

#include <charconv>

#include "parley/util/bytes.h"
#include "parley/util/encoding.h"

namespace parley::load::xmpp {
namespace {

Status malformed(std::string message) {
  return Status::error(ErrorCode::kMalformedInput, std::move(message));
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_name_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == ':' || u >= 0x80;
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  const char first = name.front();
  if ((first >= '0' && first <= '9') || first == '-' || first == '.') return false;
  for (char c : name) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

void append_utf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

// Appends `text` with its entity and character references replaced.
Status unescape_into(std::string_view text, std::string& out) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t amp = text.find('&', i);
    if (amp == std::string_view::npos) {
      out.append(text.substr(i));
      return Status();
    }
    out.append(text.substr(i, amp - i));
    const std::size_t semi = text.find(';', amp);
    if (semi == std::string_view::npos || semi - amp > 12) {
      return malformed("unterminated entity reference");
    }
    const std::string_view entity = text.substr(amp + 1, semi - amp - 1);
    if (entity == "lt") {
      out += '<';
    } else if (entity == "gt") {
      out += '>';
    } else if (entity == "amp") {
      out += '&';
    } else if (entity == "quot") {
      out += '"';
    } else if (entity == "apos") {
      out += '\'';
    } else if (entity.size() >= 2 && entity[0] == '#') {
      const bool hex = entity[1] == 'x';
      const std::string_view digits = entity.substr(hex ? 2 : 1);
      std::uint32_t code_point = 0;
      const auto [end, error] =
          std::from_chars(digits.data(), digits.data() + digits.size(), code_point, hex ? 16 : 10);
      if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
          code_point == 0 || code_point > 0x10FFFF ||
          (code_point >= 0xD800 && code_point <= 0xDFFF)) {
        return malformed("bad character reference");
      }
      append_utf8(out, code_point);
    } else {
      return malformed("unknown entity reference");
    }
    i = semi + 1;
  }
  return Status();
}

// Recursive descent over one complete element; depth and attribute counts are bounded.
class ElementParser {
 public:
  explicit ElementParser(std::string_view text) : text_(text) {}

  Result<Element> parse_root() {
    skip_space();
    Element root;
    PARLEY_RETURN_IF_ERROR(parse(root, 1));
    skip_space();
    if (pos_ != text_.size()) return malformed("data after the element");
    return root;
  }

 private:
  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }
  bool at_end() const { return pos_ >= text_.size(); }

  std::string_view read_name() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  Status parse(Element& element, int depth) {
    if (depth > StreamReader::kMaxDepth) return malformed("elements nested too deeply");
    if (at_end() || text_[pos_] != '<') return malformed("expected '<'");
    ++pos_;
    const std::string_view name = read_name();
    if (!valid_name(name)) return malformed("bad element name");
    element.name = std::string(name);

    // Attributes, then '>' or '/>'.
    for (;;) {
      const std::size_t before = pos_;
      skip_space();
      if (at_end()) return malformed("unterminated start tag");
      if (text_[pos_] == '/') {
        if (pos_ + 1 >= text_.size() || text_[pos_ + 1] != '>') return malformed("stray '/'");
        pos_ += 2;
        return Status();
      }
      if (text_[pos_] == '>') {
        ++pos_;
        break;
      }
      if (pos_ == before) return malformed("attributes must be separated by space");
      const std::string_view key = read_name();
      if (!valid_name(key)) return malformed("bad attribute name");
      skip_space();
      if (at_end() || text_[pos_] != '=') return malformed("expected '=' after attribute name");
      ++pos_;
      skip_space();
      if (at_end() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
        return malformed("attribute value must be quoted");
      }
      const char quote = text_[pos_++];
      const std::size_t close = text_.find(quote, pos_);
      if (close == std::string_view::npos) return malformed("unterminated attribute value");
      const std::string_view raw = text_.substr(pos_, close - pos_);
      if (raw.find('<') != std::string_view::npos) return malformed("'<' in attribute value");
      if (element.attributes.size() >= StreamReader::kMaxAttributes) {
        return malformed("too many attributes");
      }
      std::string value;
      PARLEY_RETURN_IF_ERROR(unescape_into(raw, value));
      element.attributes.emplace_back(std::string(key), std::move(value));
      pos_ = close + 1;
    }

    // Content: text and child elements up to the matching end tag.
    for (;;) {
      if (at_end()) return malformed("unterminated element");
      if (text_[pos_] != '<') {
        const std::size_t next = text_.find('<', pos_);
        if (next == std::string_view::npos) return malformed("unterminated element");
        PARLEY_RETURN_IF_ERROR(unescape_into(text_.substr(pos_, next - pos_), element.text));
        pos_ = next;
        continue;
      }
      if (pos_ + 1 >= text_.size()) return malformed("unterminated element");
      const char after = text_[pos_ + 1];
      if (after == '/') {
        pos_ += 2;
        const std::string_view end_name = read_name();
        if (end_name != element.name) return malformed("mismatched end tag");
        skip_space();
        if (at_end() || text_[pos_] != '>') return malformed("unterminated end tag");
        ++pos_;
        return Status();
      }
      if (after == '!' || after == '?') {
        return malformed("comments, CDATA and processing instructions are not supported");
      }
      element.children.emplace_back();
      PARLEY_RETURN_IF_ERROR(parse(element.children.back(), depth + 1));
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

std::string_view tag_name(std::string_view tag) {
  // tag starts with '<' or "</".
  std::size_t start = tag.size() > 1 && tag[1] == '/' ? 2 : 1;
  std::size_t end = start;
  while (end < tag.size() && is_name_char(tag[end])) ++end;
  return tag.substr(start, end - start);
}

}  // namespace

// ---- Writing -------------------------------------------------------------------------------

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string stream_header(std::string_view domain) {
  return "<?xml version='1.0'?><stream:stream to='" + escape(domain) +
         "' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
         "version='1.0'>";
}

std::string register_iq(std::string_view id, std::string_view username, std::string_view password) {
  return "<iq type='set' id='" + escape(id) + "'><query xmlns='jabber:iq:register'><username>" +
         escape(username) + "</username><password>" + escape(password) + "</password></query></iq>";
}

std::string auth_plain(std::string_view username, std::string_view password) {
  std::string credentials;
  credentials.reserve(username.size() + password.size() + 2);
  credentials += '\0';
  credentials.append(username);
  credentials += '\0';
  credentials.append(password);
  return "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
         base64_encode(as_bytes(credentials)) + "</auth>";
}

std::string bind_iq(std::string_view id, std::string_view resource) {
  return "<iq type='set' id='" + escape(id) +
         "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>" + escape(resource) +
         "</resource></bind></iq>";
}

std::string session_iq(std::string_view id) {
  return "<iq type='set' id='" + escape(id) +
         "'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>";
}

std::string presence() {
  return "<presence/>";
}

std::string sm_enable() {
  return "<enable xmlns='urn:xmpp:sm:3'/>";
}

std::string sm_request() {
  return "<r xmlns='urn:xmpp:sm:3'/>";
}

std::string sm_answer(std::uint32_t handled) {
  return "<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(handled) + "'/>";
}

std::string message(std::string_view to, std::string_view id, std::string_view payload) {
  return "<message to='" + escape(to) + "' id='" + escape(id) + "' type='chat'><body>" +
         base64_encode(as_bytes(payload)) + "</body></message>";
}

// ---- Reading -------------------------------------------------------------------------------

std::string_view Element::attribute(std::string_view key) const {
  for (const auto& [k, v] : attributes) {
    if (k == key) return v;
  }
  return {};
}

bool Element::has_attribute(std::string_view key) const {
  for (const auto& [k, v] : attributes) {
    if (k == key) return true;
  }
  return false;
}

const Element* Element::child(std::string_view child_name) const {
  for (const auto& c : children) {
    if (c.name == child_name) return &c;
  }
  return nullptr;
}

Result<Element> parse_element(std::string_view text) {
  return ElementParser(text).parse_root();
}

Status StreamReader::fail(Status status) {
  failed_ = status;
  buffer_.clear();
  pos_ = 0;
  return status;
}

Status StreamReader::feed(std::string_view bytes, std::vector<Event>& events) {
  if (!failed_.ok()) return failed_;
  buffer_.append(bytes);
  while (pos_ < buffer_.size()) {
    const char c = buffer_[pos_];
    if (in_tag_) {
      if (quote_ != 0) {
        if (c == quote_) {
          quote_ = 0;
          last_in_tag_ = c;
        }
      } else if (c == '\'' || c == '"') {
        quote_ = c;
        last_in_tag_ = c;
      } else if (c == '<') {
        return fail(malformed("'<' inside a tag"));
      } else if (c == '>') {
        in_tag_ = false;
        if (Status status = on_tag_end(pos_, events); !status.ok()) return fail(status);
      } else if (!is_space(c)) {
        last_in_tag_ = c;
      }
    } else if (c == '<') {
      in_tag_ = true;
      tag_start_ = pos_;
      quote_ = 0;
      last_in_tag_ = 0;
    } else if (depth_ <= 1 && !is_space(c)) {
      return fail(malformed("text outside a stanza"));
    }
    ++pos_;
    const std::size_t open_from = depth_ >= 2 ? stanza_start_ : (in_tag_ ? tag_start_ : pos_);
    if (pos_ - open_from > max_stanza_bytes_) {
      return fail(Status::error(ErrorCode::kTooLarge, "stanza exceeds the size limit"));
    }
  }
  // Keep only the unfinished stanza or tag.
  const std::size_t keep_from = depth_ >= 2 ? stanza_start_ : (in_tag_ ? tag_start_ : pos_);
  if (keep_from > 0) {
    buffer_.erase(0, keep_from);
    pos_ -= keep_from;
    if (in_tag_) tag_start_ -= keep_from;
    if (depth_ >= 2) stanza_start_ -= keep_from;
  }
  return Status();
}

Status StreamReader::on_tag_end(std::size_t tag_end, std::vector<Event>& events) {
  const std::string_view tag =
      std::string_view(buffer_).substr(tag_start_, tag_end - tag_start_ + 1);
  if (tag.size() < 3) return malformed("empty tag");
  const char kind = tag[1];
  if (kind == '?') {
    // Only the XML declaration, before a stream header (also after a restart).
    if (depth_ > 1 || last_in_tag_ != '?' || tag.substr(0, 6) != "<?xml ") {
      return malformed("processing instructions are not supported");
    }
    return Status();
  }
  if (kind == '!') return malformed("comments, CDATA and DTDs are not supported");

  if (kind == '/') {
    if (depth_ == 0) return malformed("end tag before the stream header");
    if (depth_ == 1) {
      if (local_name(tag_name(tag)) != "stream") return malformed("unexpected end tag");
      Event event;
      event.kind = Event::Kind::kStreamClose;
      event.element.name = std::string(tag_name(tag));
      events.push_back(std::move(event));
      depth_ = 0;
      return Status();
    }
    --depth_;
    if (depth_ == 1) {
      PARLEY_ASSIGN_OR_RETURN(Element element, parse_element(std::string_view(buffer_).substr(
                                                   stanza_start_, tag_end + 1 - stanza_start_)));
      events.push_back(Event{Event::Kind::kStanza, std::move(element)});
    }
    return Status();
  }

  const std::string_view name = tag_name(tag);
  if (!valid_name(name)) return malformed("bad element name");
  const bool self_closing = last_in_tag_ == '/';
  if (depth_ <= 1 && !self_closing && name == "stream:stream") {
    // The opener (again at depth 1 after a restart): parse its attributes as an empty element.
    std::string closed(tag.substr(0, tag.size() - 1));
    closed += "/>";
    PARLEY_ASSIGN_OR_RETURN(Element element, parse_element(closed));
    events.push_back(Event{Event::Kind::kStreamOpen, std::move(element)});
    depth_ = 1;
    return Status();
  }
  if (depth_ == 0) return malformed("expected the stream header");
  if (self_closing) {
    if (depth_ == 1) {
      PARLEY_ASSIGN_OR_RETURN(Element element, parse_element(tag));
      events.push_back(Event{Event::Kind::kStanza, std::move(element)});
    }
    return Status();
  }
  if (depth_ == 1) stanza_start_ = tag_start_;
  if (depth_ > kMaxDepth) return malformed("elements nested too deeply");
  ++depth_;
  return Status();
}

// ---- Interpreting ---------------------------------------------------------------------------

std::string_view local_name(std::string_view name) {
  const std::size_t colon = name.rfind(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

bool is_sm_request(const Element& element) {
  return element.name == "r" && element.attribute("xmlns") == kSmNamespace;
}

bool is_sm_answer(const Element& element) {
  return element.name == "a" && element.attribute("xmlns") == kSmNamespace;
}

Result<std::uint32_t> sm_handled(const Element& element) {
  const std::string_view h = element.attribute("h");
  std::uint32_t value = 0;
  const auto [end, error] = std::from_chars(h.data(), h.data() + h.size(), value);
  if (h.empty() || error != std::errc() || end != h.data() + h.size()) {
    return Status::error(ErrorCode::kMalformedInput, "bad stream management counter");
  }
  return value;
}

std::string error_condition(const Element& element) {
  const std::string_view local = local_name(element.name);
  const Element* holder = nullptr;
  if (local == "error" || local == "failure") {
    holder = &element;
  } else {
    holder = element.child("error");
  }
  if (holder == nullptr) return {};
  for (const Element& c : holder->children) {
    if (c.name != "text") return c.name;
  }
  return {};
}

Result<std::string> message_payload(const Element& message) {
  const Element* body = message.child("body");
  if (body == nullptr) return Status::error(ErrorCode::kNotFound, "message without a body");
  PARLEY_ASSIGN_OR_RETURN(Bytes bytes, base64_decode(body->text));
  return std::string(as_string_view(bytes));
}

}  // namespace parley::load::xmpp
