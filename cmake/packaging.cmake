# The Debian package (scripts/package): install() rules for what `confab` needs at
# run time, man pages made from the --help texts (help2man), bash completion,
# systemd units, the system user and default configs, and CPack's DEB generator.
# The install layout is the package's (prefix /usr, configs in /etc/confab);
# the binary finds its data files in <prefix>/share/confab (cli/commands.h, packaged_path).
include(GNUInstallDirs)

set(CONFAB_PACKAGE_MAINTAINER "Confab developers <confab-dev@lists.example.org>" CACHE STRING
    "Maintainer field of the Debian package (scripts/package)")
set(CONFAB_PACKAGING ${PROJECT_SOURCE_DIR}/packaging)
set(CONFAB_PACKAGE_GEN ${PROJECT_BINARY_DIR}/package)

install(TARGETS confab RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Files the binary reads at run time (install-desktop, the demo, the extension's folder).
install(FILES ${CONFAB_PACKAGING}/confab.desktop ${CONFAB_PACKAGING}/confab-service.service
        DESTINATION ${CMAKE_INSTALL_DATADIR}/confab)
install(DIRECTORY ${CONFAB_PACKAGING}/site DESTINATION ${CMAKE_INSTALL_DATADIR}/confab)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/extension DESTINATION ${CMAKE_INSTALL_DATADIR}/confab)

# Documentation and the commented example config of each part.
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/deployment.md ${PROJECT_SOURCE_DIR}/docs/api.md
              ${PROJECT_SOURCE_DIR}/docs/architecture.md ${CONFAB_PACKAGING}/deb/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
# A native package's changelog (Debian policy 12.7), compressed as dpkg expects.
string(TIMESTAMP changelog_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE ${CONFAB_PACKAGE_GEN}/changelog "confab (${PROJECT_VERSION}) unstable; urgency=medium\n\n"
     "  * Built from the Confab source tree by scripts/package.\n\n"
     " -- ${CONFAB_PACKAGE_MAINTAINER}  ${changelog_date}\n")
execute_process(COMMAND gzip -9nf ${CONFAB_PACKAGE_GEN}/changelog)
install(FILES ${CONFAB_PACKAGE_GEN}/changelog.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The system services: units, their user, and the configs they start with (conffiles).
install(FILES ${CONFAB_PACKAGING}/systemd/confab-proxy.service ${CONFAB_PACKAGING}/systemd/confab-conference.service
              ${CONFAB_PACKAGING}/systemd/confab-mixer.service
        DESTINATION /lib/systemd/system)
install(FILES ${CONFAB_PACKAGING}/systemd/confab.sysusers DESTINATION lib/sysusers.d RENAME confab.conf)
install(FILES ${CONFAB_PACKAGING}/systemd/confab.tmpfiles DESTINATION lib/tmpfiles.d RENAME confab.conf)
install(FILES ${CONFAB_PACKAGING}/deb/proxy.toml ${CONFAB_PACKAGING}/deb/conference.toml
        DESTINATION /etc/confab PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${CONFAB_PACKAGING}/deb/confab-mixer.default DESTINATION /etc/default RENAME confab-mixer)

# The client service's user unit, with the installed binary's path (install-desktop does
# the same for a binary run from anywhere).
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CONFAB_PACKAGING}/confab-service.service)
file(READ ${CONFAB_PACKAGING}/confab-service.service user_unit)
string(REPLACE "=confab " "=/usr/bin/confab " user_unit "${user_unit}")
string(REPLACE "#   confab install-desktop   installs it to ~/.config/systemd/user/ and this .desktop file\n" "" user_unit "${user_unit}")
file(CONFIGURE OUTPUT ${CONFAB_PACKAGE_GEN}/confab-service.service CONTENT "${user_unit}" @ONLY)
install(FILES ${CONFAB_PACKAGE_GEN}/confab-service.service DESTINATION lib/systemd/user)

install(FILES ${CONFAB_PACKAGING}/deb/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME confab)
install(FILES ${CONFAB_PACKAGING}/confab.bash-completion
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME confab)

# Man pages: confab(1) and confab-<command>(1) for each command `confab --help` lists,
# remade whenever the binary changes. Without help2man the package has none
# (scripts/package refuses to build it then); none in the sanitizer builds (not packaged).
find_program(HELP2MAN help2man)
if(HELP2MAN AND NOT CONFAB_FUZZ AND NOT CONFAB_SANITIZE)
  set(man_stamp ${CONFAB_PACKAGE_GEN}/man.stamp)
  add_custom_command(OUTPUT ${man_stamp}
    COMMAND ${CMAKE_COMMAND} -DCONFAB=$<TARGET_FILE:confab> -DHELP2MAN=${HELP2MAN} -DVERSION=${PROJECT_VERSION}
            -DOUTPUT_DIR=${CONFAB_PACKAGE_GEN}/man1 -P ${PROJECT_SOURCE_DIR}/cmake/man_pages.cmake
    COMMAND ${CMAKE_COMMAND} -E touch ${man_stamp}
    DEPENDS confab ${PROJECT_SOURCE_DIR}/cmake/man_pages.cmake
    COMMENT "Man pages from confab --help (help2man)" VERBATIM)
  add_custom_target(confab_man_pages ALL DEPENDS ${man_stamp})
  install(DIRECTORY ${CONFAB_PACKAGE_GEN}/man1 DESTINATION ${CMAKE_INSTALL_MANDIR} FILES_MATCHING PATTERN "*.1.gz")
elseif(NOT HELP2MAN)
  message(STATUS "help2man not found: no man pages (apt-get install help2man)")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME confab)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_CONTACT "${CONFAB_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "SIP as a system service, and the servers it talks to")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Confab lets any program on a desktop ask one local daemon
(confab service) to put its user into a call or conference on the device the
user prefers, and to move the call later without hanging up.
.
The network side ships with it: a SIP proxy and registrar, an ad-hoc
conference server, an audio mixer, a game server whose zones are conferences,
a web site whose pages are conferences and an XMPP chat bot. The proxy, the
conference server and the mixer come with hardened systemd units.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/confab/confab")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# systemd-sysusers creates the confab system user (postinst, as dh_installsysusers does).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | systemd-standalone-sysusers | systemd-sysusers")
# Programs the client service starts: softphones, the desktop dialog, the link handler registration.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "baresip-core, linphone-cli, zenity, xdg-utils")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CONFAB_PACKAGING}/deb/conffiles ${CONFAB_PACKAGING}/deb/postinst ${CONFAB_PACKAGING}/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
