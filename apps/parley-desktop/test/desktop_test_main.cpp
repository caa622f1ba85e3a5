// SPDX-License-Identifier: AGPL-3.0-or-later
// Runs every QtTest class registered with PARLEY_DESKTOP_TEST (test/desktop_tests.h).
//
//   parley_desktop_test                      all classes
//   parley_desktop_test -v2                  all classes, QtTest options passed to each
//   parley_desktop_test PresentationTest     one class; further arguments go to QtTest
//                                            (e.g. a test function name)
//
// The exit code is non-zero when any test failed. Needs no display: QT_QPA_PLATFORM=offscreen.
//
// Also the main of parley_desktop_ui_test (the widget tests), built with PARLEY_DESKTOP_WIDGETS:
// widgets need a QApplication, while parley_desktop_test stays free of Qt Widgets.

#if defined(PARLEY_DESKTOP_WIDGETS)
#include <QApplication>
#else
#include <QGuiApplication>
#endif
#include <QFileInfo>
#include <QTest>
#include <algorithm>
#include <cstdio>

#include "desktop_tests.h"

namespace parley::desktop::test {

std::vector<RegisteredTest>& registered_tests() {
  static std::vector<RegisteredTest> tests;  // function-local: safe from static init order
  return tests;
}

bool register_test(std::string name, TestFactory make) {
  registered_tests().push_back({std::move(name), std::move(make)});
  return true;
}

}  // namespace parley::desktop::test

int main(int argc, char** argv) {
  using parley::desktop::test::RegisteredTest;
#if defined(PARLEY_DESKTOP_WIDGETS)
  QApplication app(argc, argv);
#else
  QGuiApplication app(argc, argv);
#endif

  std::vector<RegisteredTest> tests = parley::desktop::test::registered_tests();
  std::sort(tests.begin(), tests.end(),
            [](const RegisteredTest& a, const RegisteredTest& b) { return a.name < b.name; });

  // A first argument naming a class runs only that class; the rest go to QtTest.
  QStringList args = app.arguments();
  if (args.size() > 1) {
    const std::string wanted = args.at(1).toStdString();
    const auto only = std::find_if(tests.begin(), tests.end(),
                                   [&](const RegisteredTest& t) { return t.name == wanted; });
    if (only != tests.end()) {
      tests = {*only};
      args.removeAt(1);
    }
  }

  int failed_classes = 0;
  for (const RegisteredTest& test : tests) {
    const std::unique_ptr<QObject> object = test.make();
    if (QTest::qExec(object.get(), args) != 0) ++failed_classes;
  }
  std::printf("%s: %zu test class(es), %d failed\n",
              QFileInfo(args.at(0)).fileName().toLocal8Bit().constData(), tests.size(),
              failed_classes);
  return failed_classes == 0 ? 0 : 1;
}
