// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The message box under a chat: Enter sends, Shift+Enter starts a new line; files dropped or
// pasted into it are sent as attachments instead of being inserted as text; a pasted picture
// without a file (a screenshot) is handed over as an image. It also tells when the person starts
// and stops typing, for the typing indicator.

#include <QImage>
#include <QPlainTextEdit>
#include <QStringList>
#include <QTimer>

namespace parley::desktop {

class Composer : public QPlainTextEdit {
  Q_OBJECT

 public:
  explicit Composer(QWidget* parent = nullptr);

  // Sends what is typed (as Enter does): emits sendRequested and clears, unless it is blank.
  void submit();

 signals:
  void sendRequested(const QString& text);  // trimmed of surrounding blank lines, never empty
  void filesDropped(const QStringList& paths);
  void imagePasted(const QImage& image);
  // true when the box goes from empty to text; false when it empties, on send, or after
  // kTypingIdle without a keystroke.
  void typingChanged(bool typing);

 protected:
  void keyPressEvent(QKeyEvent* event) override;
  bool canInsertFromMimeData(const QMimeData* source) const override;
  void insertFromMimeData(const QMimeData* source) override;

 private:
  void on_text_changed();
  void set_typing(bool typing);

  QTimer typing_idle_;
  bool typing_ = false;
};

}  // namespace parley::desktop
