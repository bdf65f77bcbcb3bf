/* Placeholder entry point while the server core lands; replaced by the real main in this issue. */
#include <stdio.h>
int main(void)
{
    return 0;
}
