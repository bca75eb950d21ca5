package dnsprovider_test

import "os"

func syscallGetenv(k string) (string, bool) { return os.LookupEnv(k) }
