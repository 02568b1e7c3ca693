# h2_add_module(<target> [OUTPUT_DIRECTORY <dir>] [NO_INSTALL] <sources>...)
#
# Builds <target>.so, an h2 handler module (dlopen-ed by h2host, see h2/abi.h):
#   - C++20, only the SDK headers (target h2sdk::sdk), every symbol hidden except the
#     descriptor export H2_MODULE defines (so two modules never share inline SDK state);
#   - linked with -z defs: a module may not depend on symbols of the host;
#   - written to OUTPUT_DIRECTORY (default: H2_MODULE_OUTPUT_DIR when set, else the current
#     binary dir) and installed to H2_MODULE_INSTALL_DIR (default lib/h2/modules) unless
#     NO_INSTALL.
include_guard(GLOBAL)
include(GNUInstallDirs)

function(h2_add_module target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "NO_INSTALL" "OUTPUT_DIRECTORY" "")
  set(sources ${arg_UNPARSED_ARGUMENTS})
  if(NOT sources)
    message(FATAL_ERROR "h2_add_module(${target}): no sources")
  endif()
  add_library(${target} MODULE ${sources})
  target_link_libraries(${target} PRIVATE h2sdk::sdk)
  if(TARGET h2_warnings)
    target_link_libraries(${target} PRIVATE h2_warnings)
  endif()
  set(out ${arg_OUTPUT_DIRECTORY})
  if(NOT out AND H2_MODULE_OUTPUT_DIR)
    set(out ${H2_MODULE_OUTPUT_DIR})
  endif()
  if(NOT out)
    set(out ${CMAKE_CURRENT_BINARY_DIR})
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    CXX_STANDARD 20
    CXX_STANDARD_REQUIRED ON
    CXX_EXTENSIONS OFF
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${out})
  # Every symbol resolved at link time: a module that would fail at dlopen fails to link instead.
  # Not in sanitizer builds, where the sanitizer runtime comes with the executable.
  if(NOT H2_SANITIZE)
    target_link_options(${target} PRIVATE "LINKER:-z,defs")
  endif()
  if(NOT arg_NO_INSTALL)
    if(NOT H2_MODULE_INSTALL_DIR)
      set(H2_MODULE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/h2/modules)
    endif()
    install(TARGETS ${target} LIBRARY DESTINATION ${H2_MODULE_INSTALL_DIR})
  endif()
endfunction()
