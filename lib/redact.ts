// Credentials out of text that names a server: the password of every `scheme://user:password@`
// becomes `***`, so messages and logs may still say which server and user.
export function maskCredentials(text: string): string {
  return text.replace(/\/\/([^:/@\s]+):[^@\s]*@/g, "//$1:***@");
}
