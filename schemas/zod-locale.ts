import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// zod/mini ships no messages ("Invalid input"): English, as classic zod gives them. The one locale
// module, not `z.locales.en` (that namespace keeps every locale, ~250 KB, in a bundle).
z.config(en());
