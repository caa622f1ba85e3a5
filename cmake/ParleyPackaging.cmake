# SPDX-License-Identifier: AGPL-3.0-or-later
# The Debian package: one `parley` .deb with parleyd, parley, parley-relay and parley-desktop (its
# desktop entry and icon), built by `scripts/package.sh` (`cpack` in the `release` build) and
# checked by tests/package. Only targets with install() rules go in: tests, benchmarks and fuzzers
# have none. Runtime dependencies come from dpkg-shlibdeps (package dpkg-dev).

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME parley)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Parley")
set(CPACK_PACKAGE_CONTACT "Parley maintainers <maintainers@parley.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "private messenger: server, relay, command-line and desktop clients")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Parley is an end-to-end encrypted messenger (Signal protocol) for chats,
groups and files, built to keep working on censored networks (relays,
proxies, DNS over HTTPS). This package holds parley-desktop (the desktop
client, Qt 6), parley (the command-line client), parleyd (the server) and
parley-relay (a relay that forwards clients to a server and shows everyone
else an ordinary web site).")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # parley_<version>_<arch>.deb
set(CPACK_DEB_COMPONENT_INSTALL OFF)     # one package, every install() component in it
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Loaded at run time as a Qt plugin, so dpkg-shlibdeps cannot see it: the SVG icon engine for the
# window icon (data/parley.svg).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libqt6svg6")
# Debian ships stripped binaries; this also keeps a package made from a Debug build small.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# `cpack --config CPackSourceConfig.cmake` would otherwise pack the build trees too.
set(CPACK_SOURCE_IGNORE_FILES "/build/" "/\\\\.git/")

# Debian policy: the license as /usr/share/doc/<package>/copyright.
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright)

include(CPack)
