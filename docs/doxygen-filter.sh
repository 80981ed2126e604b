#!/bin/sh
# doxygen-filter.sh HEADER - the INPUT_FILTER of the Doxyfile: prints
# HEADER with its plain C comments made into Doxygen comments, so the
# headers stay as they are written and Doxygen still reads them.
#
# The header's opening comment becomes the file's description (@file);
# every other comment that opens a line becomes a /** comment, which
# Doxygen gives to the declaration that follows; a comment after a
# member on its line becomes a /**< comment, which documents that
# member. Only comment openers change, so line numbers stay true.
exec sed -e '1s|^/\*$|/** @file|' \
	-e '2,$s|^\([[:space:]]*\)/\*\([[:space:]]\)|\1/**\2|' \
	-e '2,$s|^\([[:space:]]*\)/\*$|\1/**|' \
	-e 's|;[[:space:]]*/\*[[:space:]]|; /**< |' "$1"
