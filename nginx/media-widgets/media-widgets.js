// All four standard widgets in one import:
//   <script type="module" src="/media-widgets/media-widgets.js"></script>
// Each module also works alone (e.g. only /media-widgets/media-upload.js).
import './media-upload.js';
import './media-generate.js';
import './media-library.js';
import './media-attach.js';

export { MediaApiError, MediaClient } from './media-client.js';
