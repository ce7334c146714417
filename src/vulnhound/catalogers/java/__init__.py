"""Java archives: Maven coordinates from jars, wars and ears, including jars nested inside them."""
