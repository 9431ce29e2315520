"""An offline voice: eSpeak NG (shipped inside the `espeakng-loader` wheel, library and data),
called through its C library."""
