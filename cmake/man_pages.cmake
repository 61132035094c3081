# Writes OUTPUT_DIR/confab.1.gz and OUTPUT_DIR/confab-<command>.1.gz for each command
# `confab --help` lists, with help2man from the --help texts. Run by the
# confab_man_pages target (cmake/packaging.cmake) with CONFAB, HELP2MAN, VERSION.
set(work ${OUTPUT_DIR}-work)  # help2man's wrappers and SEE ALSO sections
file(REMOVE_RECURSE ${OUTPUT_DIR} ${work})
file(MAKE_DIRECTORY ${OUTPUT_DIR} ${work})

execute_process(COMMAND ${CONFAB} --help OUTPUT_VARIABLE top_help RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "${CONFAB} --help failed")
endif()
# The commands: the indented first words of the lines after "Subcommands:".
string(FIND "${top_help}" "\nSubcommands:\n" at)
if(at LESS 0)
  message(FATAL_ERROR "confab --help lists no Subcommands:")
endif()
string(SUBSTRING "${top_help}" ${at} -1 listing)
string(REGEX MATCHALL "\n  [a-z][a-z0-9-]*" commands "${listing}")
list(TRANSFORM commands REPLACE "^\n  " "")
if(NOT commands)
  message(FATAL_ERROR "no commands found in confab --help")
endif()

# One page: PAGE (confab or confab-<command>), ARGS before the user's (the command).
# help2man runs a wrapper so that the usage line says "confab ..." and not the build path.
function(make_page page)
  set(wrapper ${work}/${page})
  file(WRITE ${wrapper} "#!/bin/bash\nexec -a confab '${CONFAB}' ${ARGN} \"$@\"\n")
  file(CHMOD ${wrapper} PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
  execute_process(COMMAND ${wrapper} --help OUTPUT_VARIABLE help)
  string(REGEX MATCH "^[^\n]*" summary "${help}")
  set(see_also ${work}/${page}.h2m)
  if(page STREQUAL "confab")
    set(refs "")
    foreach(c IN LISTS commands)
      string(APPEND refs ".BR confab-${c} (1),\n")
    endforeach()
    file(WRITE ${see_also} "[SEE ALSO]\n${refs}and /usr/share/doc/confab/deployment.md.\n")
  else()
    file(WRITE ${see_also} "[SEE ALSO]\n.BR confab (1),\nand /usr/share/doc/confab/deployment.md.\n")
  endif()
  execute_process(COMMAND ${HELP2MAN} --no-info --section=1 --name=${summary} --version-string=${page}\ ${VERSION}
                          --include=${see_also} --output=${OUTPUT_DIR}/${page}.1 ${wrapper}
                  RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "help2man failed for ${page}")
  endif()
  execute_process(COMMAND gzip -9nf ${OUTPUT_DIR}/${page}.1 RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "gzip failed for ${page}.1")
  endif()
endfunction()

make_page(confab)
foreach(c IN LISTS commands)
  make_page(confab-${c} ${c})
endforeach()
