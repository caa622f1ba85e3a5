// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// How the QtTest classes of parley_desktop_test find desktop_test_main.cpp: each test file
// defines one QObject class with private slots and registers it with PARLEY_DESKTOP_TEST, so a
// new test file needs no edit anywhere but the CMake target's source list.

#include <QObject>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace parley::desktop::test {

using TestFactory = std::function<std::unique_ptr<QObject>()>;

struct RegisteredTest {
  std::string name;  // the class name, as given on the command line to run only that class
  TestFactory make;
};

// Every registered test class (in registration order; main sorts them by name).
std::vector<RegisteredTest>& registered_tests();

// Returns true so it can initialise a namespace-scope constant (static registration).
bool register_test(std::string name, TestFactory make);

}  // namespace parley::desktop::test

// At namespace scope after the class, with a semicolon: PARLEY_DESKTOP_TEST(PresentationTest);
#define PARLEY_DESKTOP_TEST(Class)                                                                \
  [[maybe_unused]] static const bool kRegistered##Class = ::parley::desktop::test::register_test( \
      #Class, []() -> std::unique_ptr<QObject> { return std::make_unique<Class>(); })
