/* Placeholder: the login page UI replaces this file with wxemu's wxLogin.js. */
