"""Chart colours shared by the pages: Okabe & Ito's, told apart with red-green colour blindness too, and a
mid-grey seen on the light and the dark theme alike."""

BLUE, BLUISH_GREEN, VERMILLION, ORANGE = "#0072b2", "#009e73", "#d55e00", "#e69f00"
MID_GREY = "#888888"  # 3:1 or more on both themes' backgrounds
