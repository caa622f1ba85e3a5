// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ui/composer.h"

#include <QKeyEvent>
#include <QMimeData>
#include <QUrl>

namespace parley::desktop {

namespace {

// Typing indicators stop on their own after this long without a keystroke (the receiving side
// also times them out, in case the "stopped" is lost).
constexpr int kTypingIdleMs = 5000;

QStringList local_files(const QMimeData* source) {
  QStringList paths;
  if (!source->hasUrls()) return paths;
  for (const QUrl& url : source->urls()) {
    if (url.isLocalFile()) paths << url.toLocalFile();
  }
  return paths;
}

}  // namespace

Composer::Composer(QWidget* parent) : QPlainTextEdit(parent) {
  setObjectName("composer");
  setPlaceholderText(tr("Write a message — Enter sends, Shift+Enter for a new line"));
  setTabChangesFocus(true);
  typing_idle_.setSingleShot(true);
  typing_idle_.setInterval(kTypingIdleMs);
  connect(&typing_idle_, &QTimer::timeout, this, [this] { set_typing(false); });
  connect(this, &QPlainTextEdit::textChanged, this, &Composer::on_text_changed);
}

void Composer::submit() {
  QString text = toPlainText();
  // Blank lines around a message are accidents of typing; inner ones are the person's.
  while (!text.isEmpty() && text.front().isSpace()) text.remove(0, 1);
  while (!text.isEmpty() && text.back().isSpace()) text.chop(1);
  if (text.isEmpty()) return;
  clear();  // emits textChanged → typing stops
  set_typing(false);
  emit sendRequested(text);
}

void Composer::keyPressEvent(QKeyEvent* event) {
  const bool enter = event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter;
  if (enter && !(event->modifiers() & Qt::ShiftModifier)) {
    submit();
    event->accept();
    return;
  }
  QPlainTextEdit::keyPressEvent(event);
}

bool Composer::canInsertFromMimeData(const QMimeData* source) const {
  return !local_files(source).isEmpty() || source->hasImage() ||
         QPlainTextEdit::canInsertFromMimeData(source);
}

void Composer::insertFromMimeData(const QMimeData* source) {
  // Files first: a file manager's copy also carries the paths as text, which must not be sent.
  if (QStringList paths = local_files(source); !paths.isEmpty()) {
    emit filesDropped(paths);
    return;
  }
  if (source->hasImage()) {
    QImage image = qvariant_cast<QImage>(source->imageData());
    if (!image.isNull()) emit imagePasted(image);
    return;
  }
  QPlainTextEdit::insertFromMimeData(source);
}

void Composer::on_text_changed() {
  if (toPlainText().isEmpty()) {
    set_typing(false);
    return;
  }
  set_typing(true);
  typing_idle_.start();
}

void Composer::set_typing(bool typing) {
  if (!typing) typing_idle_.stop();
  if (typing == typing_) return;
  typing_ = typing;
  emit typingChanged(typing);
}

}  // namespace parley::desktop
