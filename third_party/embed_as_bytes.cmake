# Writes the bytes of INPUT as a comma-separated list of hex literals into OUTPUT, to #include inside a
# char array initialiser (C++20 has no #embed).
file(READ ${INPUT} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
string(REGEX REPLACE ",$" "" bytes "${bytes}")
file(WRITE ${OUTPUT} "${bytes}")
