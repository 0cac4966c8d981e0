// Anchors the precompiled header shared by the test executables. It is built as
// an executable so that it is compiled with the same -fPIE flags as the tests
// (a PCH made with -fPIC would be rejected by them).
int main() { return 0; }
